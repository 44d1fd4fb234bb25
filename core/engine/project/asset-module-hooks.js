// Module hooks for a project's asset modules, run on Node's module-hooks thread (plain
// JavaScript: they are registered before anything can compile TypeScript).
//
// `import { asset } from 'strata'` resolves to the engine that loads the project (`data.target`),
// from any project folder, so a project needs no install of its own and its modules share that
// engine's instance. Given `data.port`, the engine can ask this thread to stop the compiler
// service tsx starts here (an esbuild child process) and to wait until it has exited and been
// reaped, so that a command leaves no process behind (see asset-modules.ts).
import { createRequire } from 'node:module';
import { stopEsbuild } from './esbuild-service.js';

let target;

export function initialize(data) {
  target = data.target;
  const port = data.port;
  if (!port) return;
  port.on('message', (message) => {
    if (message !== 'close') return;
    stopCompilerService().then(
      () => port.postMessage('closed'),
      (error) => port.postMessage(`not closed: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
  port.unref();
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'strata') return { url: target, shortCircuit: true };
  return nextResolve(specifier, context);
}

/** Stops tsx's esbuild service, if this thread started one, and waits until it is reaped. */
async function stopCompilerService() {
  // esbuild as tsx resolves it (it is tsx's dependency, not the engine's).
  const require = createRequire(createRequire(import.meta.url).resolve('tsx'));
  // Loaded (by tsx) only when a module had to be compiled: otherwise there is nothing to stop.
  const esbuild = require.cache[require.resolve('esbuild')]?.exports;
  if (!esbuild) return;
  // This thread spawned it, so this thread's event loop reaps it.
  await stopEsbuild(esbuild);
}
