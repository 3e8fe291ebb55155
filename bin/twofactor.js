#!/usr/bin/env node
// The command line is TypeScript, run through tsx as the service is (`npm start`): register
// tsx's loader in this process, then load the entry. Plain JavaScript, so that `node`,
// `npx twofactor` and `npm exec twofactor` can start it without a build step.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The repository's tsconfig, wherever the command is run from.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/cli/main.ts');
