/**
 * The progress of a queued backfill (`assets backfill --queue`), whose runs several workers run:
 * worked out again from storage whenever one of its runs ends (or is reaped), so that whichever
 * worker ends the last run completes it. Its runs are the runs tagged with it; a run another one
 * resumes (a reclaimed run's retry, a `--resume`) no longer counts, its successor does.
 */

import { partitionId } from '../../model/definitions/asset-key.ts';
import type { BackfillRecord, BackfillUpdate, RunRecord, Storage } from '../../../storage/storage.ts';
import { resumedRunsOf } from './run-retry.ts';

/** Where a queued backfill stands. */
export interface QueuedBackfillState {
  /** Its runs, oldest first. */
  readonly runs: readonly RunRecord[];
  /** Runs not taken over by another (the ones whose outcome counts). */
  readonly current: readonly RunRecord[];
  /** Asset partitions (`key@partition`) its runs committed. */
  readonly committed: ReadonlySet<string>;
  /** What the record should say. */
  readonly update: Required<Pick<BackfillUpdate, 'status' | 'runIds' | 'done' | 'failed' | 'error'>>;
}

/** Runs read per page while looking for a backfill's runs (newest first, back to its creation). */
const PAGE = 500;

/** The backfill a run recorded by `assets backfill --queue` belongs to (its request names it); `undefined` for any other run. */
export function queuedBackfillOf(run: RunRecord): string | undefined {
  return run.request?.kind === 'backfill' && typeof run.request.backfill === 'string' ? run.request.backfill : undefined;
}

/** The asset partitions a queued backfill run was queued with. */
export function partsOf(run: RunRecord): readonly string[] {
  const parts = run.request?.parts;
  return Array.isArray(parts) ? parts.filter((p): p is string => typeof p === 'string') : [];
}

/**
 * Reads where `backfill` stands: its runs, which of them count, what they committed, and the
 * status and counts that follow. A canceled backfill stays canceled.
 */
export async function queuedBackfillState(storage: Storage, backfill: BackfillRecord): Promise<QueuedBackfillState> {
  const runs = await runsOf(storage, backfill);
  const replaced = new Set(runs.flatMap((run) => resumedRunsOf(run.request)));
  const current = runs.filter((run) => !replaced.has(run.id));
  const ids = new Set(runs.map((run) => run.id));
  const keys = new Set(runs.flatMap((run) => partsOf(run).map((part) => keyOfPart(part))));
  const latest = keys.size === 0 ? [] : await storage.latestMaterializations([...keys]);
  const committed = new Set(latest.filter((m) => ids.has(m.runId)).map((m) => partitionId(m.assetKey, m.partition)));
  const planned = new Set(runs.flatMap(partsOf));
  const done = [...planned].filter((part) => committed.has(part)).length;
  const ended = current.filter((run) => run.status === 'failed' || run.status === 'canceled');
  const failed = new Set(ended.flatMap(partsOf).filter((part) => !committed.has(part))).size;
  const going = current.some((run) => run.status === 'queued' || run.status === 'running');
  const status = backfill.status === 'canceled' ? 'canceled' : going ? 'running' : ended.length === 0 ? 'success' : 'failed';
  const error = status === 'failed' ? (ended.find((run) => run.error !== null)?.error ?? 'a run failed') : null;
  return { runs, current, committed, update: { status, runIds: runs.map((run) => run.id), done, failed, error } };
}

/**
 * Writes the backfill's status and counts as storage now says, after one of its runs ended.
 * Two workers ending runs at once may each read before the other's run ended: each writes, then
 * reads again and writes again until what it reads agrees with what it wrote, so the last write
 * always comes from a reading that saw every run that had ended. `onEnded` is called when this
 * call's write ended the backfill.
 */
export async function refreshQueuedBackfill(
  storage: Storage,
  backfillId: string,
  onEnded?: (backfill: BackfillRecord) => void,
): Promise<BackfillRecord | undefined> {
  let backfill = await storage.getBackfill(backfillId);
  let ended = false;
  for (let round = 0; backfill !== undefined && round < 10; round++) {
    const { update } = await queuedBackfillState(storage, backfill);
    if (agrees(backfill, update)) break;
    // This write ends it: the caller tells whoever waits for a backfill's end (alerts).
    if (backfill.status === 'running' && update.status !== 'running') ended = true;
    await storage.updateBackfill(backfillId, { ...update, updatedAt: Date.now() });
    backfill = await storage.getBackfill(backfillId);
  }
  if (ended && backfill !== undefined && backfill.status !== 'running') onEnded?.(backfill);
  return backfill;
}

function agrees(backfill: BackfillRecord, update: QueuedBackfillState['update']): boolean {
  return (
    backfill.status === update.status &&
    backfill.done === update.done &&
    backfill.failed === update.failed &&
    backfill.error === update.error &&
    backfill.runIds.join() === update.runIds.join()
  );
}

/** The runs tagged with the backfill, oldest first (read newest first, back to its creation). */
async function runsOf(storage: Storage, backfill: BackfillRecord): Promise<RunRecord[]> {
  const found: RunRecord[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await storage.listRuns({ limit: PAGE, offset });
    for (const run of page) if (run.tags.backfill === backfill.id && run.createdAt >= backfill.createdAt) found.push(run);
    if (page.length < PAGE || (page.at(-1)?.createdAt ?? 0) < backfill.createdAt) break;
  }
  return found.reverse();
}

/** The asset key of a `key@partition` (keys never hold `@`). */
export function keyOfPart(part: string): string {
  const at = part.indexOf('@');
  return at < 0 ? part : part.slice(0, at);
}
