// The `assets` CLI run from the TypeScript source, for a development checkout whose build is
// missing or stale (bin/assets.js decides): registers tsx so TypeScript (the engine and the
// project's asset modules) loads directly, maps the `strata` import to this checkout's source,
// then runs the CLI.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// The command name: the first argument that is not a global option (`assets --project DIR list`).
const command = process.argv.slice(2).find((arg, i, args) => !arg.startsWith('-') && args[i - 1] !== '--project');

// Plain-JavaScript dependencies load before the TypeScript hooks are installed: through the
// hooks every one of their internal modules would cost a round trip to tsx's loader thread
// (zod: about 60 ms; kysely, ~280 modules, about as much). Every command but `list` reads storage.
const readsStorage = command !== undefined && !['list', 'help', '--help', '-h', '--version'].includes(command) && !process.argv.includes('--help');
await Promise.all([import('zod'), import('graphology'), import('graphology-dag'), ...(readsStorage ? [import('kysely'), import('better-sqlite3')] : [])]);

// Registered before tsx so that tsx's resolve runs first and treats the mapped file as TypeScript.
registerHooks('../core/engine/project/asset-module-hooks.js', import.meta.url, {
  data: { target: new URL('../core/index.ts', import.meta.url).href },
});
register();
const { runAsProcess } = await import('../core/cli/main.ts');
await runAsProcess(process.argv.slice(2));
