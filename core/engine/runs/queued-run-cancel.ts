/**
 * Canceling a queued run before a worker claims it (the UI's *Cancel run* on a run it queued):
 * the run is marked canceled in storage, with its `run_canceled` event, unless a worker claimed
 * it first (then the worker's process runs it, and stops it there).
 */
import { RunEvents } from '../execution/run-events.ts';
import type { RunRecord, Storage } from '../../../storage/storage.ts';

/**
 * Cancels `run` if it is still queued for a worker; true when it did. A run started in a
 * process (no request) is not this function's: false.
 */
export async function cancelQueued(storage: Storage, run: RunRecord): Promise<boolean> {
  if (run.status !== 'queued' || run.request == null) return false;
  if (!(await storage.cancelQueuedRun(run.id, Date.now()))) return false;
  await storage.appendEvents([new RunEvents(run.id).run('run_canceled', 'canceled while queued: no worker had claimed it')]);
  return true;
}
