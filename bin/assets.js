#!/usr/bin/env node
// Entry point of the `assets` CLI. Runs the compiled engine (dist/, see engine-build.js) when
// its build is current; in a development checkout whose build is missing or older than the
// source, runs the TypeScript source through tsx instead.
import { buildIsCurrent, COMPILED_CLI } from './engine-build.js';

// The compiled CLI's modules load while the source is checked against the build stamp (the
// check's file reads run on libuv's threads meanwhile); loading runs no command, so a stale
// build's modules are merely left unused.
const [current, compiled] = await Promise.all([buildIsCurrent(), import(COMPILED_CLI).catch(() => undefined)]);
if (current && compiled) await compiled.runAsProcess(process.argv.slice(2));
else await import('./assets-from-source.js');
