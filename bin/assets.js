#!/usr/bin/env node
// Entry point of the `assets` CLI. Runs the compiled engine (dist/, see engine-build.js) when
// its build is current; in a development checkout whose build is missing or older than the
// source, runs the TypeScript source through tsx instead.
import { buildIsCurrent, COMPILED_CLI } from './engine-build.js';

if (buildIsCurrent()) {
  const { runAsProcess } = await import(COMPILED_CLI);
  await runAsProcess(process.argv.slice(2));
} else {
  await import('./assets-from-source.js');
}
