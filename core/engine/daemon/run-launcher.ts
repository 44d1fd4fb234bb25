/**
 * The daemon's run queue: runs wait in order until the run limit and every pool they need have
 * a free slot, then start. It knows every asset partition queued or running, so the daemon
 * never requests one twice. Executing a run is injected; this file only does the bookkeeping.
 */
import { partitionIds, type AssetPartitions } from './asset-partitions.ts';
import type { RunTrigger } from '../../../storage/storage.ts';

/** A run the daemon decided on, waiting for a slot. */
export interface QueuedRun {
  readonly runId: string;
  readonly trigger: Extract<RunTrigger, 'schedule' | 'automation'>;
  /** The selection recorded on the run. */
  readonly selection: string;
  readonly partitions: AssetPartitions;
  /** Pools the run holds a slot of while it runs. */
  readonly pools: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** The tick's clock: which partitions exist for the plan. */
  readonly now: Date;
}

/** How a run ended, as the launcher reports it. */
export interface LaunchedRunOutcome {
  readonly runId: string;
  readonly status: string;
  readonly error?: string;
}

/** What the launcher needs. */
export interface RunLauncherOptions {
  readonly maxConcurrentRuns: number;
  /** Slots of a pool. */
  readonly poolLimit: (pool: string) => number;
  /** Runs one run to its end; should not reject (a rejection is reported as a failed outcome). */
  readonly execute: (run: QueuedRun, signal: AbortSignal) => Promise<LaunchedRunOutcome>;
  /** Called when a run starts and when it ends. */
  readonly onStart?: (run: QueuedRun) => void;
  readonly onEnd?: (run: QueuedRun, outcome: LaunchedRunOutcome) => void;
}

/**
 * Starts queued runs within the limits.
 *
 * @example
 * const launcher = new RunLauncher({ maxConcurrentRuns: 2, poolLimit: () => 1, execute });
 * launcher.enqueue(run);
 * await launcher.settled([run.runId]);
 */
export class RunLauncher {
  readonly #o: RunLauncherOptions;
  readonly #queue: QueuedRun[] = [];
  readonly #running = new Map<string, { run: QueuedRun; done: Promise<LaunchedRunOutcome> }>();
  readonly #poolUse = new Map<string, number>();
  readonly #finished = new Map<string, LaunchedRunOutcome>();
  readonly #waiters = new Map<string, ((outcome: LaunchedRunOutcome) => void)[]>();
  readonly #abort = new AbortController();
  #peak = 0;

  constructor(options: RunLauncherOptions) {
    this.#o = options;
  }

  /** Adds runs to the end of the queue and starts what fits. */
  enqueue(...runs: QueuedRun[]): void {
    this.#queue.push(...runs);
    this.#pump();
  }

  /** Every asset partition queued or running, `key@partition` → run id. */
  inFlight(): Map<string, string> {
    const map = new Map<string, string>();
    for (const run of [...[...this.#running.values()].map((r) => r.run), ...this.#queue]) {
      for (const id of partitionIds(run.partitions)) map.set(id, run.runId);
    }
    return map;
  }

  /** Runs going now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Runs waiting for a slot. */
  get queuedCount(): number {
    return this.#queue.length;
  }

  /** The largest number of runs that ran at once so far. */
  get peakRunning(): number {
    return this.#peak;
  }

  /** Resolves with the outcomes of `runIds` once each has ended (a dropped run ends as `dropped`). */
  settled(runIds: readonly string[]): Promise<LaunchedRunOutcome[]> {
    return Promise.all(
      runIds.map((id) => {
        const done = this.#finished.get(id);
        if (done) return Promise.resolve(done);
        return new Promise<LaunchedRunOutcome>((resolve) => {
          const list = this.#waiters.get(id);
          if (list) list.push(resolve);
          else this.#waiters.set(id, [resolve]);
        });
      }),
    );
  }

  /** Resolves when no run is running (queued runs may remain if they cannot start). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.race([...this.#running.values()].map((r) => r.done));
  }

  /** Removes the runs that have not started and returns them; they end as `dropped`. */
  dropQueued(): QueuedRun[] {
    const dropped = this.#queue.splice(0);
    for (const run of dropped) this.#settle(run.runId, { runId: run.runId, status: 'dropped', error: 'the daemon stopped before the run started' });
    return dropped;
  }

  /** Cancels every running run (their steps roll back) and stops starting new ones. */
  cancelRunning(): void {
    this.#abort.abort();
  }

  #pump(): void {
    for (let i = 0; i < this.#queue.length; ) {
      if (this.#abort.signal.aborted || this.#running.size >= this.#o.maxConcurrentRuns) return;
      const run = this.#queue[i] as QueuedRun;
      if (!run.pools.every((pool) => (this.#poolUse.get(pool) ?? 0) < this.#o.poolLimit(pool))) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#start(run);
    }
  }

  #start(run: QueuedRun): void {
    for (const pool of run.pools) this.#poolUse.set(pool, (this.#poolUse.get(pool) ?? 0) + 1);
    this.#o.onStart?.(run);
    const done = this.#o
      .execute(run, this.#abort.signal)
      .catch((error: unknown): LaunchedRunOutcome => ({ runId: run.runId, status: 'failed', error: error instanceof Error ? error.message : String(error) }))
      .then((outcome) => {
        this.#running.delete(run.runId);
        for (const pool of run.pools) this.#poolUse.set(pool, (this.#poolUse.get(pool) ?? 1) - 1);
        this.#o.onEnd?.(run, outcome);
        this.#settle(run.runId, outcome);
        this.#pump();
        return outcome;
      });
    this.#running.set(run.runId, { run, done });
    this.#peak = Math.max(this.#peak, this.#running.size);
  }

  #settle(runId: string, outcome: LaunchedRunOutcome): void {
    this.#finished.set(runId, outcome);
    for (const resolve of this.#waiters.get(runId) ?? []) resolve(outcome);
    this.#waiters.delete(runId);
  }
}
