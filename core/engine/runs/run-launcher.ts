/**
 * The one run launcher of a long-lived process (the daemon, the UI server): materializations and
 * backfills go through the {@link RunService} in the background. Launches wait in order until
 * the run limit and every pool they need have a free slot; ids are chosen up front so a caller
 * can answer at once, and until storage has the record, {@link RunLauncher.pendingRun} and
 * {@link RunLauncher.pendingBackfill} stand in for it. It knows every asset partition queued or
 * running, so the daemon never requests one twice; a listener hears of every run and event.
 */
import { randomUUID } from 'node:crypto';
import { newBackfillRecord, type BackfillRequest } from '../execution/backfill-runner.ts';
import type { FullRefreshRequest } from '../execution/full-refresh-request.ts';
import { messageOf } from '../execution/step-helpers.ts';
import { StrataError } from '../../model/errors.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import type { BackfillRecord, EventRecord, RunRecord } from '../../../storage/storage.ts';
import { byPrefix, refreshOptions, tell, type LaunchedRun, type LaunchedRunOutcome, type LaunchListener, type RunLaunch } from './run-launch.ts';
import type { RunService } from './run-service.ts';

export type { LaunchedRun, LaunchedRunOutcome, LaunchListener, LaunchPartitions, RunLaunch } from './run-launch.ts';

/** What a {@link RunLauncher} needs. */
export interface RunLauncherOptions {
  readonly service: RunService;
  /** Launches going at once (default: no limit). */
  readonly maxConcurrentRuns?: number;
  /** Slots of a pool (default: no limit). */
  readonly poolLimit?: (pool: string) => number;
  /** Reap dead runs before each launch starts (the UI server; the daemon reaps at every tick). */
  readonly reapFirst?: boolean;
  readonly listener?: LaunchListener;
  /** Called when a run (not a backfill) starts and when it ends. */
  readonly onStart?: (run: LaunchedRun) => void;
  readonly onEnd?: (run: LaunchedRun, outcome: LaunchedRunOutcome) => void;
}

/** A launch waiting for a slot or going on. */
interface Job {
  readonly id: string;
  readonly pools: readonly string[];
  readonly run?: LaunchedRun;
  readonly work: (signal: AbortSignal) => Promise<LaunchedRunOutcome>;
}

/**
 * Starts launches within the limits, in the background.
 *
 * @example
 * const launcher = new RunLauncher({ service, maxConcurrentRuns: 2, poolLimit: () => 1 });
 * const runId = launcher.launchRun({ plan, selection: 'marts/*', trigger: 'manual', now: new Date() });
 * await launcher.settled([runId]);
 */
export class RunLauncher {
  readonly #o: RunLauncherOptions;
  readonly #queue: Job[] = [];
  readonly #running = new Map<string, { job: Job; done: Promise<LaunchedRunOutcome> }>();
  readonly #poolUse = new Map<string, number>();
  readonly #finished = new Map<string, LaunchedRunOutcome>();
  readonly #waiters = new Map<string, ((outcome: LaunchedRunOutcome) => void)[]>();
  /** Aborted by {@link cancelRunning} and {@link close}: cancels every launch and starts no more. */
  readonly #abort = new AbortController();
  /** What cancels each launch, by id. */
  readonly #cancels = new Map<string, AbortController>();
  readonly #pendingRuns = new Map<string, RunRecord>();
  readonly #pendingBackfills = new Map<string, BackfillRecord>();
  #closed = false;
  #peak = 0;

  constructor(options: RunLauncherOptions) {
    this.#o = options;
  }

  /** Queues a run of `launch.plan`; returns its id at once. */
  launchRun(launch: RunLaunch): string {
    this.#assertOpen();
    const run: LaunchedRun = { ...launch, runId: launch.runId ?? randomUUID() };
    const queued: RunRecord = {
      id: run.runId,
      status: 'queued',
      trigger: run.trigger,
      selection: run.selection,
      assetKeys: [...new Set(run.plan.steps.map((s) => s.key))],
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
      error: null,
      tags: { ...run.tags },
    };
    this.#pendingRuns.set(run.runId, queued);
    this.#o.listener?.runQueued(queued);
    this.#enqueue({ id: run.runId, pools: run.pools ?? [], run, work: (signal) => this.#materialize(run, queued, signal) });
    return run.runId;
  }

  /** Queues a backfill; returns its id at once. */
  launchBackfill(request: Omit<BackfillRequest, 'id'>, now: Date, refresh?: FullRefreshRequest): string {
    this.#assertOpen();
    const id = randomUUID();
    // Shown as running with nothing planned yet while it waits for the warehouse.
    this.#pendingBackfills.set(id, newBackfillRecord(id, request, 0));
    this.#enqueue({ id, pools: [], work: (signal) => this.#backfill({ ...request, id }, now, signal, refresh) });
    return id;
  }

  /** Every asset partition queued or running, `key@partition` → run id. */
  inFlight(): Map<string, string> {
    const map = new Map<string, string>();
    for (const job of [...[...this.#running.values()].map((r) => r.job), ...this.#queue]) {
      for (const [key, partitions] of job.run?.partitions ?? []) for (const p of partitions) map.set(partitionId(key, p), job.id);
    }
    return map;
  }

  /** Launches going now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Launches waiting for a slot. */
  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Launches queued or going on. */
  get active(): number {
    return this.#running.size + this.#queue.length;
  }

  /** The largest number of launches that ran at once so far. */
  get peakRunning(): number {
    return this.#peak;
  }

  /** True once {@link close} was called: it launches nothing more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Accepted runs not yet in storage (queued, or waiting for the warehouse), newest first. */
  pendingRuns(): RunRecord[] {
    return [...this.#pendingRuns.values()].reverse();
  }

  /** A run accepted but not yet in storage, by id or unique id prefix. */
  pendingRun(id: string): RunRecord | undefined {
    return byPrefix(this.#pendingRuns, id);
  }

  /** Accepted backfills not yet in storage, newest first. */
  pendingBackfills(): BackfillRecord[] {
    return [...this.#pendingBackfills.values()].reverse();
  }

  /** A backfill accepted but not yet in storage, by id or unique id prefix. */
  pendingBackfill(id: string): BackfillRecord | undefined {
    return byPrefix(this.#pendingBackfills, id);
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

  /** Resolves when nothing is running (queued launches may remain if they cannot start). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }

  /** Removes the runs that have not started and returns them; they end as `dropped`, with `reason`. */
  dropQueued(reason = 'the process stopped before the run started'): LaunchedRun[] {
    const dropped = this.#queue.splice(0);
    for (const job of dropped) {
      this.#pendingRuns.delete(job.id);
      this.#pendingBackfills.delete(job.id);
      this.#cancels.delete(job.id);
      this.#settle(job.id, { runId: job.id, status: 'dropped', error: reason });
    }
    return dropped.flatMap((job) => (job.run ? [job.run] : []));
  }

  /**
   * Cancels one launch, queued or going on (running steps roll back); false when this launcher
   * has none with this id (another process runs it, or it has ended).
   */
  cancel(id: string): boolean {
    const controller = this.#cancels.get(id);
    controller?.abort();
    if (controller === undefined) return false;
    const queued = this.#queue.findIndex((job) => job.id === id);
    // A queued launch starts at once, sees its signal aborted and records itself canceled.
    if (queued >= 0) this.#start(this.#queue.splice(queued, 1)[0] as Job);
    return true;
  }

  /** Cancels every running launch (their steps roll back) and stops starting new ones. */
  cancelRunning(): void {
    this.#abort.abort();
  }

  /** Launches nothing more, drops the queued launches, cancels the running ones and waits until all have ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.dropQueued();
    this.cancelRunning();
    await this.idle();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError('shutting_down', 'the server is shutting down: it launches nothing more', {}, false);
  }

  #enqueue(job: Job): void {
    this.#cancels.set(job.id, new AbortController());
    this.#queue.push(job);
    this.#pump();
  }

  #pump(): void {
    const max = this.#o.maxConcurrentRuns ?? Infinity;
    const limit = this.#o.poolLimit ?? (() => Infinity);
    for (let i = 0; i < this.#queue.length; ) {
      if (this.#abort.signal.aborted || this.#running.size >= max) return;
      const job = this.#queue[i] as Job;
      if (!job.pools.every((pool) => (this.#poolUse.get(pool) ?? 0) < limit(pool))) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#start(job);
    }
  }

  #start(job: Job): void {
    for (const pool of job.pools) this.#poolUse.set(pool, (this.#poolUse.get(pool) ?? 0) + 1);
    if (job.run) this.#o.onStart?.(job.run);
    const own = this.#cancels.get(job.id) ?? new AbortController();
    const done = job
      .work(AbortSignal.any([this.#abort.signal, own.signal]))
      .catch((error: unknown): LaunchedRunOutcome => {
        this.#o.service.notice(`background run failed: ${messageOf(error)}`);
        return { runId: job.id, status: 'failed', error: messageOf(error) };
      })
      .then((outcome) => {
        this.#running.delete(job.id);
        this.#cancels.delete(job.id);
        for (const pool of job.pools) this.#poolUse.set(pool, (this.#poolUse.get(pool) ?? 1) - 1);
        if (job.run) this.#o.onEnd?.(job.run, outcome);
        this.#settle(job.id, outcome);
        this.#pump();
        return outcome;
      });
    this.#running.set(job.id, { job, done });
    this.#peak = Math.max(this.#peak, this.#running.size);
  }

  #settle(id: string, outcome: LaunchedRunOutcome): void {
    this.#finished.set(id, outcome);
    for (const resolve of this.#waiters.get(id) ?? []) resolve(outcome);
    this.#waiters.delete(id);
  }

  async #materialize(run: LaunchedRun, queued: RunRecord, signal: AbortSignal): Promise<LaunchedRunOutcome> {
    const { service, listener } = this.#o;
    const storage = await service.storage();
    try {
      signal.throwIfAborted();
      if (this.#o.reapFirst) await service.reapDeadRuns();
      const result = await service.materialize(
        {
          plan: run.plan,
          selection: run.selection,
          trigger: run.trigger,
          runId: run.runId,
          now: run.now,
          tags: queued.tags,
          ...(run.project ? { project: run.project() } : {}),
          ...(run.concurrency === undefined ? {} : { concurrency: run.concurrency }),
          ...(run.onLeaseConflict === undefined ? {} : { onLeaseConflict: run.onLeaseConflict }),
          ...refreshOptions(run.refresh),
          onEvent: (event) => {
            this.#pendingRuns.delete(event.runId);
            if (listener) tell(listener, event);
          },
        },
        signal,
      );
      return { runId: result.runId, status: result.status, ...(result.error === undefined ? {} : { error: result.error }) };
    } catch (error) {
      if (await storage.getRun(run.runId)) throw error;
      const message = await service.recordUnstarted(queued, error, signal.aborted, run.failRefusedSteps ? run.plan : undefined);
      return { runId: run.runId, status: signal.aborted ? 'canceled' : 'failed', error: message };
    } finally {
      this.#pendingRuns.delete(run.runId);
      listener?.runActivity(run.runId);
    }
  }

  async #backfill(
    request: BackfillRequest & { readonly id: string },
    now: Date,
    signal: AbortSignal,
    refresh: FullRefreshRequest | undefined,
  ): Promise<LaunchedRunOutcome> {
    const { service, listener } = this.#o;
    const storage = await service.storage();
    try {
      signal.throwIfAborted();
      if (this.#o.reapFirst) await service.reapDeadRuns();
      const { backfill } = await service.backfill(
        { request },
        {
          now,
          ...refreshOptions(refresh),
          onPlan: () => void this.#pendingBackfills.delete(request.id),
          ...(listener ? { onEvent: (event: EventRecord) => tell(listener, event) } : {}),
        },
        signal,
      );
      return { runId: backfill.id, status: backfill.status, ...(backfill.error ? { error: backfill.error } : {}) };
    } catch (error) {
      if (await storage.getBackfill(request.id)) throw error;
      const pending = this.#pendingBackfills.get(request.id);
      const status = signal.aborted ? 'canceled' : 'failed';
      if (pending) await storage.createBackfill({ ...pending, status, error: messageOf(error), updatedAt: Date.now() });
      service.notice(`backfill ${request.id.slice(0, 8)} ${status} before it started: ${messageOf(error)}`);
      return { runId: request.id, status, error: messageOf(error) };
    } finally {
      this.#pendingBackfills.delete(request.id);
    }
  }
}
