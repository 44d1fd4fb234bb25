/**
 * `assets backfill --queue` and `--resume` of a queued backfill: the backfill is recorded and its
 * runs queued for `assets worker`s (Postgres storage only), nothing runs here.
 */
import { UsageError } from '../../model/errors.ts';
import type { BackfillRecord, Storage } from '../../../storage/storage.ts';
import type { BackfillRequest } from '../../engine/execution/backfill-runner.ts';
import type { Workspace } from '../../engine/workspace.ts';
import type { QueuedBackfill, QueuedBackfillOptions } from '../../engine/runs/queued-backfills.ts';
import type { Output } from '../output.ts';

/** Refuses `--queue` on SQLite storage: a worker never claims from it. */
export function assertQueueable(workspace: Workspace): void {
  const { config } = workspace.project;
  if (config.storageUrl === undefined) {
    throw new UsageError(
      `--queue needs Postgres storage: runs queued in the SQLite storage ${config.storageFile} could never run, since assets worker refuses SQLite (it is single-host)`,
      '--queue',
    );
  }
}

/** True when `backfill` was queued (its runs were recorded for workers), so a resume queues again. */
export async function isQueuedBackfill(storage: Storage, backfill: BackfillRecord): Promise<boolean> {
  const first = backfill.runIds[0];
  if (first === undefined) return false;
  return (await storage.getRun(first))?.request?.kind === 'backfill';
}

/** Records the backfill and queues its runs; prints what was queued. */
export async function queueBackfill(
  workspace: Workspace,
  request: BackfillRequest,
  options: QueuedBackfillOptions,
  now: Date,
  out: Output,
  json: boolean,
): Promise<number> {
  const { enqueueBackfill } = await import('../../engine/runs/queued-backfills.ts');
  const queued = await enqueueBackfill({ project: workspace.project, storage: await workspace.storage(), landing: workspace.landing(), now }, request, options);
  printQueued(out, queued, 'Queued', json);
  return 0;
}

/** Queues again what a queued backfill's failed runs did not commit; prints what was queued. */
export async function requeue(workspace: Workspace, stored: BackfillRecord, keys: readonly string[], out: Output, json: boolean): Promise<number> {
  const { requeueBackfill } = await import('../../engine/runs/queued-backfills.ts');
  const queued = await requeueBackfill({ project: workspace.project, storage: await workspace.storage() }, stored, keys);
  printQueued(out, queued, 'Requeued', json);
  return 0;
}

function printQueued(out: Output, { backfill, runs, oneRun }: QueuedBackfill, verb: string, json: boolean): void {
  if (json) {
    out.json({ backfill, runIds: runs.map((r) => r.id), oneRun });
    return;
  }
  const id = backfill.id.slice(0, 8);
  if (runs.length === 0) {
    out.line(`Backfill ${id}: nothing to do (${backfill.done}/${backfill.total} partitions done)`);
    return;
  }
  const left = backfill.total - backfill.done;
  out.line(
    `${verb} backfill ${id}: ${left} asset partition${left === 1 ? '' : 's'} in ${runs.length} run${runs.length === 1 ? '' : 's'} for assets worker (see assets backfills ${id})`,
  );
  if (oneRun)
    out.line(
      out.paint(
        'gray',
        'one run: some steps read partitions of other partitions (a time-window mapping or a single-run asset), so the backfill cannot be split by partition',
      ),
    );
}
