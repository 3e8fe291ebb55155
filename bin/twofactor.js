#!/usr/bin/env node
// The command line, compiled: `npx twofactor`, `node bin/twofactor.js`; see bin/compiled.js.
// Plain JavaScript, so that it starts without a TypeScript runtime.
import { runCompiled } from './compiled.js';

runCompiled('cli');
