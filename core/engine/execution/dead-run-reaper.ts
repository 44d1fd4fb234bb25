/**
 * Finding runs whose process died: a run still `running` whose last heartbeat (else its start)
 * is older than the heartbeat timeout is marked failed ("process died: no heartbeat since …"),
 * gets a `run_failure` event, and its leases are released, so other runs may write its asset
 * partitions. A backfill the run was working on is marked failed too, ready for `--resume`.
 * A run a worker claimed from the queue gets a queued retry instead (see ./run-retry.ts), until
 * its attempts are spent.
 * The CLI calls this before materialize and backfill; the daemon on every tick.
 */

import type { EventRecord, Storage } from '../../../storage/storage.ts';
import { formatDuration } from '../../model/format/duration-text.js';
import { RunEvents } from './run-events.ts';
import { DEFAULT_MAX_ATTEMPTS, retryOfDeadRun } from './run-retry.ts';
import { queuedBackfillOf, refreshQueuedBackfill } from './queued-backfill-progress.ts';

/** What {@link reapDeadRuns} looks at. */
export interface ReapOptions {
  /** The clock (epoch ms; default now). */
  readonly now?: number;
  /** A run without a heartbeat for this long is dead; `0` reaps every running run considered. */
  readonly timeoutMs: number;
  /** Only these runs (default: every running run). */
  readonly runIds?: readonly string[];
  /** Why, for the error (default: "process died: no heartbeat since …"). */
  readonly reason?: string;
  /** Attempts of a queued run before a dead one is not retried (default {@link DEFAULT_MAX_ATTEMPTS}). */
  readonly maxAttempts?: number;
}

/** A run {@link reapDeadRuns} marked failed. */
export interface ReapedRun {
  readonly runId: string;
  /** Its last heartbeat, or `null` when it never beat. */
  readonly heartbeatAt: number | null;
  /** The error recorded on it. */
  readonly error: string;
  readonly releasedLeases: number;
  /** Its `run_failure` event, as recorded (`data`: `reaped`, `heartbeatAt`, the run's asset `keys`, and `retriedBy` when retried). */
  readonly event: EventRecord;
  /** The queued run that retries it (a claimed run with attempts left). */
  readonly retryRunId?: string;
  /** The backfill it belonged to, when that was marked failed with it. */
  readonly backfillId?: string;
}

/**
 * Marks dead runs failed and releases their leases; returns what it reaped. Safe to call from
 * several processes at once: each run is reaped once, and a run that beat in the meantime is
 * left alone.
 *
 * @example
 * for (const r of await reapDeadRuns(storage, { now: Date.now(), timeoutMs: 60_000 })) console.warn(r.error);
 */
export async function reapDeadRuns(storage: Storage, options: ReapOptions): Promise<ReapedRun[]> {
  const now = options.now ?? Date.now();
  const cutoff = now - options.timeoutMs;
  const wanted = options.runIds === undefined ? undefined : new Set(options.runIds);
  const reaped: ReapedRun[] = [];
  for (const run of await storage.listRuns({ status: 'running' })) {
    if (wanted !== undefined && !wanted.has(run.id)) continue;
    const lastSeen = run.heartbeatAt ?? run.startedAt ?? run.createdAt;
    if (lastSeen > cutoff) continue;
    const since = run.heartbeatAt == null ? `it started at ${new Date(lastSeen).toISOString()}` : new Date(lastSeen).toISOString();
    const error = options.reason ?? `process died: no heartbeat since ${since} (timeout ${formatDuration(options.timeoutMs)})`;
    const retry = retryOfDeadRun(run, now, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const event = new RunEvents(run.id, () => now).run('run_failure', error, 'error', {
      reaped: true,
      heartbeatAt: run.heartbeatAt ?? null,
      keys: [...run.assetKeys],
      ...(retry ? { retriedBy: retry.id } : {}),
    });
    const outcome = await storage.failDeadRun(run.id, { lastSeenBefore: cutoff, endedAt: now, error, event, ...(retry ? { retry } : {}) });
    if (outcome === undefined) continue;
    // A queued backfill's progress follows its runs: this one failed, or its retry is queued.
    const queuedBackfill = queuedBackfillOf(run);
    if (queuedBackfill !== undefined) await refreshQueuedBackfill(storage, queuedBackfill);
    const backfillId = retry || run.request ? undefined : await failBackfillOf(storage, run.tags.backfill, run.id, error, now);
    reaped.push({
      runId: run.id,
      event,
      heartbeatAt: run.heartbeatAt ?? null,
      error,
      releasedLeases: outcome.releasedLeases,
      ...(retry ? { retryRunId: retry.id } : {}),
      ...(backfillId ? { backfillId } : {}),
    });
  }
  return reaped;
}

/** Marks the backfill `backfillId` failed if it is running and `runId` is its latest run. */
async function failBackfillOf(storage: Storage, backfillId: string | undefined, runId: string, error: string, now: number): Promise<string | undefined> {
  if (backfillId === undefined) return undefined;
  const backfill = await storage.getBackfill(backfillId);
  if (backfill?.status !== 'running' || backfill.runIds.at(-1) !== runId) return undefined;
  await storage.updateBackfill(backfillId, { status: 'failed', error, updatedAt: now });
  return backfillId;
}
