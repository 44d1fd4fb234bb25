import type { Output } from './output.ts';

/**
 * Runs `work` with an AbortSignal that Ctrl-C (SIGINT) and SIGTERM abort: running steps roll
 * back and the run is recorded as canceled; a second Ctrl-C quits at once. If the event loop
 * empties while work is pending, a step's promise can never settle: that cancels too, so the
 * run is not left "running".
 */
export async function cancelOnSignals<T>(err: Output, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    err.line(err.paint('yellow', 'canceling: rolling back running steps (Ctrl-C again to quit at once)'));
    controller.abort();
  };
  const onStall = () => {
    err.line(err.paint('yellow', 'a step never finished (its promise waits on nothing): canceling the run'));
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('beforeExit', onStall);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('beforeExit', onStall);
  }
}
