#!/usr/bin/env node
// The service, compiled (`npm start`, and the container's command): see bin/compiled.js.
import { runCompiled } from './compiled.js';

runCompiled('service');
