#!/usr/bin/env node
// Entry point of the `assets` CLI: registers tsx so the TypeScript sources (the engine and the
// project's asset modules) load directly, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main, exitQuietlyOnClosedPipe } = await import('../core/cli/main.ts');
exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
