// Stopping an esbuild service process and waiting until it has been reaped. esbuild's stop()
// kills its child and returns at once; a process that then exits leaves the child orphaned,
// and where nothing reaps orphans (PID 1 in a container) it stays in the command's process
// group as a zombie. Plain JavaScript: the module-hooks thread (asset-module-hooks.js) uses it
// too, before anything can compile TypeScript.
import { readdirSync, readFileSync } from 'node:fs';

/** How long to wait for the compiler process to exit once stopped. */
const EXIT_WAIT_MS = 2_000;

/**
 * Stops `esbuild`'s service and waits until its process has exited. Call it from the thread
 * that started the service: that thread's event loop reaps the child, so it must keep turning.
 */
export async function stopEsbuild(esbuild) {
  const compilers = childProcesses().filter((pid) => commandOf(pid) === 'esbuild');
  await esbuild.stop();
  const deadline = Date.now() + EXIT_WAIT_MS;
  while (compilers.some((pid) => childProcesses().includes(pid)) && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 5));
  }
}

/** This process's child processes (Linux; elsewhere none are known and nothing is waited for). */
function childProcesses() {
  try {
    return readdirSync('/proc/self/task').flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
