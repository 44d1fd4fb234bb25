/**
 * The worker loop of `assets worker`: claims queued runs from storage (oldest first, each by
 * one worker only, see `Storage.claimQueuedRun`), runs up to `concurrency` of them at once
 * through the run service, and reaps runs whose process died (when idle, and every half heartbeat
 * timeout while busy). An idle worker
 * on a storage that can tell (Postgres: LISTEN/NOTIFY) claims as soon as a run is queued or one
 * ends; it polls too, as the fallback. Stopping ends the claiming; the runs going on finish
 * (cancel them with the cancel signal).
 */
import type { RunService } from './run-service.ts';
import { runClaimed } from './queued-runs.ts';
import { pause, waitForQueued } from '../../../storage/queue-wake.ts';
import { DEFAULT_HEARTBEAT } from '../../model/config/heartbeat-settings.ts';

/** What a {@link runWorker} does. */
export interface RunWorkerOptions {
  readonly service: RunService;
  /** Runs at once. */
  readonly concurrency: number;
  /** Stop when the queue is empty and no run is going on (default: keep polling). */
  readonly once?: boolean;
  /** Between two looks at an empty queue when no news came (default 1 s). */
  readonly pollMs?: number;
  /** Told when a run is claimed and when it ends. */
  readonly log?: (line: string) => void;
  /** Slots of each pool across every worker (default: no limit); see `Storage.claimQueuedRun`. */
  readonly poolLimit?: (pool: string) => number;
  /** Claim only runs all of whose pools are listed (default: any run). */
  readonly pools?: readonly string[];
}

/** How one claimed run ended. */
export interface WorkedRun {
  readonly runId: string;
  readonly status: string;
  readonly error?: string;
}

/** When to stop: `stop` ends the claiming; `cancel` cancels the runs going on (their steps roll back). */
export interface WorkerSignals {
  readonly stop: AbortSignal;
  readonly cancel: AbortSignal;
}

/**
 * Claims and runs queued runs until `signals.stop` (or, with `once`, until the queue is
 * drained); returns the runs it ran, in the order they ended.
 *
 * @example
 * const worked = await runWorker({ service, concurrency: 2, once: true }, { stop, cancel });
 */
export async function runWorker(options: RunWorkerOptions, signals: WorkerSignals): Promise<WorkedRun[]> {
  const { service, concurrency } = options;
  const log = options.log ?? (() => undefined);
  const storage = await service.storage();
  const going = new Map<string, Promise<void>>();
  const worked: WorkedRun[] = [];
  const pollMs = options.pollMs ?? 1_000;
  await service.reapDeadRuns();
  let reapedAt = Date.now();
  const reapEveryMs = (service.project.config.heartbeat?.timeoutMs ?? DEFAULT_HEARTBEAT.timeoutMs) / 2;
  while (!signals.stop.aborted) {
    let claimed = 0;
    while (going.size < concurrency && !signals.stop.aborted) {
      const run = await storage.claimQueuedRun({
        now: Date.now(),
        pid: process.pid,
        ...(options.poolLimit ? { poolLimit: options.poolLimit } : {}),
        ...(options.pools ? { pools: options.pools } : {}),
      });
      if (run === undefined) break;
      claimed++;
      log(`run ${run.id.slice(0, 8)} claimed (${run.selection})`);
      const work = runClaimed(service, run, signals.cancel).then((result) => {
        worked.push({ runId: result.runId, status: result.status, ...(result.error === undefined ? {} : { error: result.error }) });
        log(`run ${result.runId.slice(0, 8)} ${result.status}${result.error === undefined ? '' : `: ${result.error}`}`);
      });
      going.set(
        run.id,
        work.finally(() => going.delete(run.id)),
      );
    }
    if (claimed > 0 && going.size < concurrency) continue;
    if (options.once && going.size === 0) break;
    // Dead runs are reaped (and queued runs retried) within about a heartbeat timeout, busy or not; idle with
    // nothing to claim, once a poll interval however often news wakes it, never just before a claim.
    if (Date.now() - reapedAt >= (going.size === 0 ? pollMs : reapEveryMs)) {
      reapedAt = Date.now();
      // A queued run reaped is retried: claim again at once.
      if ((await service.reapDeadRuns()).length > 0) continue;
    }
    const waited = new AbortController();
    const signal = AbortSignal.any([signals.stop, waited.signal]);
    // With a slot free, news of a queued run wakes it; else only a run ending does (or the poll).
    const wait = going.size < concurrency ? waitForQueued(storage, signal, pollMs) : pause(pollMs, signal).then(() => false);
    await Promise.race([...going.values(), wait]);
    waited.abort();
  }
  await Promise.all(going.values());
  return worked;
}
