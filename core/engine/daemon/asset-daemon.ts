/**
 * The asset daemon: at every tick it re-hashes edited seed files, reaps dead runs, observes
 * source assets (and runs the checks of those with new data, ./daemon-source-checks.ts), evaluates the schedules and the assets' automation conditions, records the
 * tick with every decision, and queues the runs it decided on; a {@link RunLauncher} starts them within the run and pool
 * limits. {@link AssetDaemon.runIteration} is one tick with the clock passed in, so tests drive
 * ticks without waiting; the loop around it is ./daemon-loop.ts, the runs a tick decides on
 * come from ./decided-runs.ts.
 */
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import { buildPlan } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { DEFAULT_DAEMON_SETTINGS, type DaemonSettings } from '../../model/config/daemon-settings.ts';
import { poolLimit, warehouseKind } from '../../model/config/concurrency-pools.ts';
import type { Project } from '../../model/project.ts';
import { SeedRefresher } from '../project/seed-refresh.ts';
import { observeSources } from '../staleness/observe-sources.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import type { EventRecord, Storage } from '../../../storage/storage.ts';
import { RunLauncher, type LaunchedRun, type LaunchedRunOutcome } from '../runs/run-launcher.ts';
import { RunService } from '../runs/run-service.ts';
import { projectRunObservers, type RunObserver } from '../runs/run-observers.ts';
import { enqueueMaterialization } from '../runs/queued-runs.ts';
import { queuedDbtVars } from '../runs/claimed-plan.ts';
import { addStoredInFlight, daemonRequest } from './queued-daemon-runs.ts';
import type { WarehouseSource } from '../runs/shared-warehouse.ts';
import { describeTargets, partitionIds, tickTargets } from './asset-partitions.ts';
import { describeDecision } from './decision-text.ts';
import { watchFreshness } from './freshness-misses.ts';
import { checkChangedSources } from './daemon-source-checks.ts';
import { decideAutomationRun, decideScheduleRuns, type DecidedRun } from './decided-runs.ts';

export { RETRY_TAG } from './decided-runs.ts';

/** Everything the daemon works with. */
export interface AssetDaemonOptions {
  readonly project: Project;
  readonly storage: Storage;
  /**
   * An open warehouse, or an opener to call only while runs go (the warehouse is closed when
   * idle). Default: the project's warehouse file, opened only while runs go.
   */
  readonly warehouse?: WarehouseSource;
  readonly landing: LandingZone;
  /** Default: the project's `daemon` settings. */
  readonly settings?: DaemonSettings;
  /** The clock of ticks that are not given one (default: the real time). */
  readonly clock?: () => Date;
  /**
   * Marks runs whose process died as failed and returns their ids. Default: the run service's
   * reaper with the project's heartbeat timeout, on every running run but this daemon's own, by
   * the real clock (heartbeats are real times, whatever the tick's clock).
   */
  readonly reapDeadRuns?: (now: Date) => Promise<readonly string[]>;
  /** Steps per run (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** One line per notable thing (ticks with decisions, runs starting and ending). */
  readonly log?: (line: string) => void;
  /** Background news: waiting for the warehouse, a run refused before it started (default: `log`). */
  readonly notice?: (message: string) => void;
  /**
   * Queue the decided runs in storage for `assets worker` instead of running them here (needs
   * Postgres storage; the caller checks). The pools are then the workers' to keep.
   */
  readonly queue?: boolean;
  /** Told the daemon's runs' events, its failed ticks and the `freshness_miss` events its ticks raise (default: the project's, see `projectRunObservers`). */
  readonly observers?: readonly RunObserver[];
}

/** The `daemon_error` event observers are told when a tick fails (never stored). */
function daemonErrorEvent(tickId: number, error: string): EventRecord {
  return {
    runId: '',
    timestamp: Date.now(),
    type: 'daemon_error',
    level: 'error',
    assetKey: null,
    partition: null,
    message: `daemon tick ${tickId} failed: ${error}`,
    data: { tickId, error },
  };
}

/** What one tick decided. */
export interface TickResult {
  readonly tickId: number;
  readonly now: Date;
  readonly decisions: readonly TickDecision[];
  /** Runs queued by this tick, in order. */
  readonly runIds: readonly string[];
  /** The `freshness_miss` events the tick raised, one per asset newly overdue (see ./freshness-misses.ts). */
  readonly freshnessMisses: readonly EventRecord[];
  readonly error?: string;
}

/**
 * The daemon. Keep one per process: it owns the in-flight set that keeps two runs from
 * materializing one asset partition.
 *
 * @example
 * const daemon = new AssetDaemon({ project, storage, warehouse, landing });
 * const tick = await daemon.runIteration(new Date());
 * await daemon.waitForRuns(tick.runIds);
 */
export class AssetDaemon {
  readonly #o: AssetDaemonOptions;
  readonly #settings: DaemonSettings;
  readonly #launcher: RunLauncher;
  readonly #service: RunService;
  readonly #seeds = new SeedRefresher();
  readonly #observers: readonly RunObserver[];
  /** The project as of the last tick: its seeds re-hashed when their files changed. */
  #project: Project;

  constructor(options: AssetDaemonOptions) {
    this.#o = options;
    this.#project = options.project;
    const notice = options.notice ?? options.log;
    // One set for the daemon's runs and the run-less events its ticks raise (freshness_miss).
    this.#observers = options.observers ?? projectRunObservers(options.project, { storage: async () => options.storage, notice: notice ?? (() => undefined) });
    this.#service = new RunService({
      project: options.project,
      storage: options.storage,
      landing: options.landing,
      ...(options.warehouse === undefined ? {} : { warehouse: options.warehouse }),
      ...(notice ? { notice } : {}),
      observers: this.#observers,
    });
    this.#settings = options.settings ?? options.project.config.daemon ?? DEFAULT_DAEMON_SETTINGS;
    this.#launcher = new RunLauncher({
      service: this.#service,
      maxConcurrentRuns: this.#settings.maxConcurrentRuns,
      poolLimit: (pool) => poolLimit(this.#settings, pool, warehouseKind(options.project.config)),
      onStart: (run) => this.#o.log?.(`run ${run.runId.slice(0, 8)} started (${run.trigger}: ${describeTargets(tickTargets(run.partitions ?? new Map()))})`),
      onEnd: (run, outcome) => this.#o.log?.(`run ${run.runId.slice(0, 8)} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`),
    });
  }

  /** Delivers what the run observers queued (OpenLineage events; at most `timeoutMs`, default 2 s) and lets go of the warehouse. */
  close(timeoutMs?: number): Promise<void> {
    return this.#service.close(timeoutMs);
  }

  /** The settings in force. */
  get settings(): DaemonSettings {
    return this.#settings;
  }

  /** The run queue (for status and tests). */
  get launcher(): RunLauncher {
    return this.#launcher;
  }

  /**
   * One tick at `now`: decides, records the tick and its decisions (and the schedules' cursors,
   * in the same transaction), then queues the runs. Errors are recorded on the tick and
   * returned, not thrown, unless the tick cannot even be recorded.
   */
  async runIteration(now: Date = this.#o.clock?.() ?? new Date()): Promise<TickResult> {
    const { storage } = this.#o;
    const tickId = await storage.createDaemonTick({ timestamp: now.getTime(), status: 'running', decisions: [], runIds: [], error: null, endedAt: null });
    const decisions: TickDecision[] = [];
    try {
      const { runs, cursors } = await this.#decide(now, tickId, decisions);
      const freshness = await watchFreshness({
        project: this.#project,
        storage,
        now,
        tickId,
        observers: this.#observers,
        ...(this.#o.log ? { log: this.#o.log } : {}),
      });
      decisions.push(...freshness.decisions);
      // Observing sources or evaluating automation failed: the tick did part of its work (schedules still ran).
      const problems = decisions.filter((d) => d.action === 'error' && d.name !== 'reap').map((d) => d.reason);
      const error = problems.length > 0 ? problems.join('; ') : null;
      await storage.updateDaemonTick(
        tickId,
        { status: error ? 'failed' : 'success', decisions, runIds: runs.map((r) => r.runId), error, endedAt: Date.now() },
        cursors,
      );
      this.#logTick(tickId, now, decisions);
      if (error) this.#service.observe(daemonErrorEvent(tickId, error));
      for (const run of runs) {
        if (this.#o.queue) await this.#enqueue(run);
        else this.#launcher.launchRun(this.#launch(run));
      }
      return { tickId, now, decisions, runIds: runs.map((r) => r.runId), freshnessMisses: freshness.raised, ...(error ? { error } : {}) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      decisions.push({ source: 'daemon', name: 'tick', action: 'error', reason: message, targets: [] });
      await storage.updateDaemonTick(tickId, { status: 'failed', decisions, error: message, endedAt: Date.now() });
      this.#o.log?.(`tick ${tickId} failed: ${message}`);
      this.#service.observe(daemonErrorEvent(tickId, message));
      return { tickId, now, decisions, runIds: [], freshnessMisses: [], error: message };
    }
  }

  /** Resolves when the given runs (default: every run queued or running now) have ended. */
  async waitForRuns(runIds?: readonly string[]): Promise<LaunchedRunOutcome[]> {
    const ids = runIds ?? [...new Set(this.#launcher.inFlight().values())];
    return this.#launcher.settled(ids);
  }

  /**
   * Stops: drops the runs that have not started, lets running runs finish (or cancels them
   * when `cancel` is true: their steps roll back), and records a last tick saying so.
   */
  async stop(options: { readonly cancel?: boolean } = {}): Promise<{ dropped: number }> {
    const dropped = this.#launcher.dropQueued('the daemon stopped before the run started');
    if (options.cancel) this.#launcher.cancelRunning();
    await this.#launcher.idle();
    const now = this.#o.clock?.() ?? new Date();
    const decision: TickDecision = {
      source: 'daemon',
      name: 'stop',
      action: 'skipped',
      reason: `daemon stopped${options.cancel ? ' (running runs canceled and rolled back)' : ''}${dropped.length > 0 ? `; ${dropped.length} queued run${dropped.length === 1 ? '' : 's'} dropped` : ''}`,
      targets: dropped.flatMap((r) => tickTargets(r.partitions ?? new Map())),
    };
    const id = await this.#o.storage.createDaemonTick({
      timestamp: now.getTime(),
      status: 'success',
      decisions: [decision],
      runIds: dropped.map((r) => r.runId),
      error: null,
      endedAt: Date.now(),
    });
    this.#o.log?.(`tick ${id}: ${decision.reason}`);
    return { dropped: dropped.length };
  }

  /** Cancels the running runs (a second Ctrl-C): their steps roll back. */
  cancelRunning(): void {
    this.#launcher.cancelRunning();
  }

  async #decide(now: Date, tickId: number, decisions: TickDecision[]): Promise<{ runs: DecidedRun[]; cursors: Record<string, string> }> {
    // An edited seed file is seen without a restart: its code version, and so staleness, change.
    this.#project = this.#seeds.refresh(this.#project);
    const project = this.#project;
    const { storage } = this.#o;
    const reap = this.#o.reapDeadRuns ?? ((at: Date) => this.#reapDeadRuns(at));
    for (const runId of await reap(now)) {
      decisions.push({
        source: 'daemon',
        name: 'reap',
        action: 'error',
        reason: `run ${runId.slice(0, 8)} died (no heartbeat): marked failed; automation retries its partitions`,
        targets: [],
      });
    }
    if (project.graph.keys.some((k) => project.graph.spec(k).source)) {
      try {
        // Through the runs' shared warehouse: a dbt source is read while no run of this process holds the file, or in the same hold.
        const warehouse = this.#service.warehouse.reader(new AbortController().signal);
        const { changed } = await observeSources({ project, storage, landing: this.#o.landing, now, warehouse });
        // A new data version is checked when it arrives, not when a run first reads it.
        const checks = { project, storage, warehouse: this.#service.warehouse, changed, tickId, now, observers: this.#observers };
        decisions.push(...(await checkChangedSources({ ...checks, ...(this.#o.log ? { log: this.#o.log } : {}) })));
      } catch (error) {
        decisions.push({ source: 'daemon', name: 'observe', action: 'error', reason: `observing sources failed: ${(error as Error).message}`, targets: [] });
      }
    }

    const inFlight = this.#launcher.inFlight();
    await addStoredInFlight(storage, project.graph, inFlight);
    const decision = { project, storage, now, inFlight, decisions };
    const { runs, cursors } = await decideScheduleRuns(decision);
    try {
      const run = await decideAutomationRun(decision);
      if (run) runs.push(run);
    } catch (error) {
      // Schedules still run when automation cannot be evaluated; the next tick tries again.
      decisions.push({
        source: 'daemon',
        name: 'automation',
        action: 'error',
        reason: `evaluating automation failed: ${(error as Error).message}`,
        targets: [],
      });
    }
    return { runs, cursors };
  }

  /** The default reaper: dead runs other than this daemon's own. */
  async #reapDeadRuns(_now: Date): Promise<string[]> {
    // Recorded as the tick's decisions: the service says nothing itself.
    const reaped = await this.#service.reapDeadRuns({ except: this.#launcher.inFlight().values(), quiet: true });
    return reaped.map((r) => r.runId);
  }

  /**
   * A decided run as the launcher takes it: its plan (only the decided partitions), and the
   * project as it is when the run starts. A partition another process holds a lease on is
   * skipped, never written twice.
   */
  #launch(run: DecidedRun): LaunchedRun {
    const wanted = new Set(partitionIds(run.partitions));
    const plan = buildPlan(this.#project.graph, [...run.partitions.keys()], {
      now: run.now,
      skip: (key, partition) => !wanted.has(partitionId(key, partition)),
    });
    return {
      ...run,
      plan,
      project: () => this.#project,
      onLeaseConflict: 'skip',
      // A refused run counts as a failure of its assets: automation retries it once, not every tick.
      failRefusedSteps: true,
      ...(this.#o.concurrency === undefined ? {} : { concurrency: this.#o.concurrency }),
    };
  }

  /** Queues a decided run in storage for a worker, as the run it would have launched. */
  async #enqueue(run: DecidedRun): Promise<void> {
    const request = { ...daemonRequest(run.selection, run.partitions, run.now, this.#o.concurrency), ...queuedDbtVars(this.#project.config) };
    const { graph } = this.#project;
    await enqueueMaterialization(this.#o.storage, request, this.#launch(run).plan, { graph, runId: run.runId, trigger: run.trigger, tags: run.tags });
    this.#o.log?.(`run ${run.runId.slice(0, 8)} queued (${run.trigger}: ${describeTargets(tickTargets(run.partitions))})`);
  }

  #logTick(tickId: number, now: Date, decisions: readonly TickDecision[]): void {
    if (!this.#o.log || decisions.length === 0) return;
    const requested = decisions.filter((d) => d.action === 'requested').length;
    this.#o.log(
      `tick ${tickId} at ${now.toISOString()}: ${requested} requested, ${decisions.length - requested} other decision${decisions.length - requested === 1 ? '' : 's'}`,
    );
    for (const d of decisions) this.#o.log(`  ${describeDecision(d)}`);
  }
}
