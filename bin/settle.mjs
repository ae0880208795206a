#!/usr/bin/env node
// The `settle` command. Settle runs its TypeScript sources directly through tsx's loader, so
// there is no build step between `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
