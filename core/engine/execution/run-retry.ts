/**
 * Reclaiming queued runs: when a run a worker claimed (one with a `request`) is reaped because
 * its process died, a retry is queued with it (in the same storage transaction, see
 * `LeaseStore.failDeadRun`). The retry carries the same request and clock, the attempt number
 * and the runs it resumes; the worker that claims it records what the dead runs published
 * (commit recovery) and leaves out every asset partition they committed, so nothing is written
 * twice. After {@link DEFAULT_MAX_ATTEMPTS} attempts the run stays failed, so a run that kills
 * its worker every time does not loop forever.
 */

import { randomUUID } from 'node:crypto';
import type { RunRecord, RunRequest } from '../../../storage/storage.ts';

/** Attempts of a queued run (the first and its retries) before a dead one is left failed. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** The fields a retry adds to its run's request. */
export interface RetryFields {
  /** Which attempt this is (absent: the first). */
  readonly attempt?: number;
  /** The runs this one takes over, whose committed asset partitions it leaves out, oldest first. */
  readonly resumes?: readonly string[];
}

/** The attempt a request is (1 for the first). */
export function attemptOf(request: RunRequest): number {
  const attempt = (request as RetryFields).attempt;
  return typeof attempt === 'number' && attempt >= 1 ? attempt : 1;
}

/** The runs a request resumes, oldest first (none for a first attempt). */
export function resumedRunsOf(request: RunRequest | null | undefined): readonly string[] {
  const resumes = (request as RetryFields | null | undefined)?.resumes;
  return Array.isArray(resumes) ? resumes.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * The queued run that retries `dead` (a claimed run about to be failed as dead), or `undefined`
 * when it was not queued (no request) or had its `maxAttempts`. The retry keeps the trigger,
 * selection, pools, tags (plus `resumes`: the dead run's id, shown by `assets runs`) and request (plus
 * the attempt number and the chain of runs it resumes); it is queued at `now`.
 *
 * @example
 * const retry = retryOfDeadRun(run, Date.now());
 */
export function retryOfDeadRun(dead: RunRecord, now: number, maxAttempts = DEFAULT_MAX_ATTEMPTS): RunRecord | undefined {
  const request = dead.request;
  if (request == null) return undefined;
  const attempt = attemptOf(request) + 1;
  if (attempt > maxAttempts) return undefined;
  const retryFields: RetryFields = { attempt, resumes: [...resumedRunsOf(request), dead.id] };
  return {
    id: randomUUID(),
    status: 'queued',
    trigger: dead.trigger,
    selection: dead.selection,
    assetKeys: dead.assetKeys,
    createdAt: now,
    startedAt: null,
    endedAt: null,
    error: null,
    tags: { ...dead.tags, resumes: dead.id, attempt: String(attempt) },
    request: { ...request, ...retryFields },
    ...(dead.pools == null ? {} : { pools: dead.pools }),
  };
}
