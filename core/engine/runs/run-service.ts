/**
 * The run service: what happens around every run, whoever asks for it (`assets materialize`,
 * `assets backfill`, `assets checks`, the daemon, the UI). A caller plans; the service reaps
 * runs whose process died, opens the shared warehouse (waiting while another process holds it,
 * saying once who that is), checks that the checks of the planned assets name columns their
 * tables have, executes, and records a run that ended before it started.
 */
import { assertCheckColumns } from '../execution/check-columns.ts';
import {
  startBackfill,
  resumeBackfill,
  type BackfillEnvironment,
  type BackfillOutcome,
  type BackfillRequest,
  type ResumeOptions,
} from '../execution/backfill-runner.ts';
import { reapDeadRuns, type ReapedRun } from '../execution/dead-run-reaper.ts';
import { executeRun, type ExecuteRunOptions, type RunResult } from '../execution/executor.ts';
import { RunEvents } from '../execution/run-events.ts';
import { messageOf, rangeData } from '../execution/step-helpers.ts';
import type { Project } from '../../model/project.ts';
import { DEFAULT_HEARTBEAT } from '../../model/config/heartbeat-settings.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import { DefinitionError, DefinitionErrors } from '../../model/errors.ts';
import type { Plan } from '../../model/planning/plan.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import { FileLandingZone } from '../../../resources/landing-zone.ts';
import type { BackfillRecord, EventRecord, RunRecord, Storage } from '../../../storage/storage.ts';
import { openProjectWarehouse } from '../project-warehouse.ts';
import { describeHolder, reapedRunText } from './run-notices.ts';
import { SharedWarehouse, type WarehouseSource } from './shared-warehouse.ts';
import { flushObservers, tellObservers, type RunObserver } from './run-observers.ts';

export type { Warehouse };

/** What a {@link RunService} works with. */
export interface RunServiceOptions {
  readonly project: Project;
  readonly storage: Storage | (() => Promise<Storage>);
  /**
   * The warehouse: a {@link SharedWarehouse} to use, an open warehouse or an opener to share
   * (default: the project's warehouse file, open only while a run needs it).
   */
  readonly warehouse?: SharedWarehouse | WarehouseSource;
  /** Where source files land (default: the project's landing folder). */
  readonly landing?: LandingZone;
  /** Where news for a person goes: dead runs reaped, waiting for the warehouse (default: nowhere). */
  readonly notice?: (message: string) => void;
  /**
   * Told of every recorded event of the runs this service starts (build them with
   * `projectRunObservers`); flushed when the service closes.
   */
  readonly observers?: readonly RunObserver[];
}

/** Which runs {@link RunService.reapDeadRuns} looks at, and whether it tells. */
export interface ReapRequest {
  /** Runs of this process, never reaped (the daemon's own). */
  readonly except?: Iterable<string>;
  /** Say nothing about the runs reaped (the caller records them its own way). */
  readonly quiet?: boolean;
}

/** A run's planned asset keys (whose checks are preflighted), its cancel signal, and the project to run. */
export interface WarehouseRequest {
  /** Asset keys whose checks must name existing columns. */
  readonly keys: readonly string[];
  readonly signal: AbortSignal;
  /** The project of this run (default: the service's); the daemon's re-hashes edited seeds. */
  readonly project?: Project;
}

/** A materialization for {@link RunService.materialize}: the executor's options less what the service supplies. */
export type MaterializeRequest = Omit<ExecuteRunOptions, 'storage' | 'warehouse' | 'landing' | 'signal' | 'project'> & { readonly project?: Project };

/** A backfill for {@link RunService.backfill}: a new one, or a stored one to resume. */
export type BackfillStart =
  | { readonly request: BackfillRequest }
  | { readonly resume: BackfillRecord; readonly keys: readonly string[]; readonly options?: ResumeOptions };

/**
 * Prepares and runs runs. One per process: it owns the process's hold on the warehouse.
 *
 * @example
 * const service = new RunService({ project, storage, notice: console.error });
 * await service.reapDeadRuns();
 * const result = await service.materialize({ plan, selection: '+marts/*' }, signal);
 */
export class RunService {
  readonly project: Project;
  readonly landing: LandingZone;
  readonly warehouse: SharedWarehouse;
  readonly #storage: () => Promise<Storage>;
  readonly #notice: (message: string) => void;
  readonly #observers: readonly RunObserver[];

  constructor(options: RunServiceOptions) {
    this.project = options.project;
    this.landing = options.landing ?? new FileLandingZone(options.project.config.landingDir);
    const { storage, warehouse } = options;
    this.#storage = typeof storage === 'function' ? storage : async () => storage;
    // A Postgres warehouse takes many writers: kept open between runs, it is connected to once, not once a run.
    const keepOpen = warehouse === undefined && options.project.config.warehouseUrl !== undefined;
    this.warehouse =
      warehouse instanceof SharedWarehouse
        ? warehouse
        : new SharedWarehouse(warehouse ?? ((wait) => openProjectWarehouse(options.project.config, wait)), { keepOpen });
    this.#notice = options.notice ?? (() => undefined);
    this.#observers = options.observers ?? [];
  }

  /**
   * Delivers what the observers queued (waiting at most `timeoutMs`, default 2 s), then closes the
   * warehouse this service kept open between runs (a Postgres warehouse), once its runs let go.
   */
  async close(timeoutMs?: number): Promise<void> {
    await flushObservers(this.#observers, timeoutMs);
    await this.warehouse.close();
  }

  /** Delivers what the observers queued, waiting at most `timeoutMs` (default 2 s). */
  flushObservers(timeoutMs?: number): Promise<void> {
    return flushObservers(this.#observers, timeoutMs);
  }

  /** Tells the observers news that is no run's recorded event (a failed daemon tick, a queued backfill's end). */
  observe(event: EventRecord): void {
    tellObservers(this.#observers, [event]);
  }

  /** The storage runs are recorded in. */
  storage(): Promise<Storage> {
    return this.#storage();
  }

  /** Tells a person something about runs (the sink given to the constructor). */
  notice(message: string): void {
    this.#notice(message);
  }

  /**
   * Marks the runs whose process died as failed, releasing their leases (see
   * {@link reapDeadRuns}), with the project's heartbeat timeout; says so about each one unless
   * `quiet`, and tells the observers of their `run_failure` events.
   */
  async reapDeadRuns(request: ReapRequest = {}): Promise<ReapedRun[]> {
    const storage = await this.storage();
    const except = new Set(request.except ?? []);
    let runIds: string[] | undefined;
    if (except.size > 0) runIds = (await storage.listRuns({ status: 'running' })).map((r) => r.id).filter((id) => !except.has(id));
    if (runIds?.length === 0) return [];
    const reaped = await reapDeadRuns(storage, {
      now: Date.now(),
      timeoutMs: this.project.config.heartbeat?.timeoutMs ?? DEFAULT_HEARTBEAT.timeoutMs,
      ...(runIds === undefined ? {} : { runIds }),
    });
    if (!request.quiet) for (const run of reaped) this.#notice(reapedRunText(run));
    // Alerts and OpenLineage learn of a dead process's run here: it never told them of its end.
    tellObservers(
      this.#observers,
      reaped.map((run) => run.event),
    );
    return reaped;
  }

  /**
   * Holds the shared warehouse around `work`: waits while another process holds the file
   * (abortable by `request.signal`, saying once who holds it), then checks in a rolled-back
   * session that the checks of `request.keys` name columns their tables have (a
   * DefinitionErrors before anything is written), then runs `work`.
   */
  async withWarehouse<T>(request: WarehouseRequest, work: (warehouse: Warehouse) => Promise<T>): Promise<T> {
    const project = request.project ?? this.project;
    const file = project.config.warehouseFile;
    const warehouse = await this.warehouse.acquire(request.signal, async ({ pid }) =>
      this.#notice(`waiting for the warehouse ${file}: ${await describeHolder(await this.storage(), pid)} is using it`),
    );
    try {
      await assertCheckColumnsIn(project, warehouse, request.keys);
      return await work(warehouse);
    } finally {
      await this.warehouse.release();
    }
  }

  /** Runs `request.plan` with the shared warehouse (see {@link withWarehouse}). */
  async materialize(request: MaterializeRequest, signal: AbortSignal): Promise<RunResult> {
    const project = request.project ?? this.project;
    const storage = await this.storage();
    const keys = [...new Set(request.plan.steps.map((s) => s.key))];
    const observers = [...this.#observers, ...(request.observers ?? [])];
    return this.withWarehouse({ keys, signal, project }, (warehouse) =>
      executeRun({ ...request, project, storage, warehouse, landing: this.landing, signal, observers }),
    );
  }

  /** Starts or resumes a backfill with the shared warehouse (see {@link withWarehouse}). */
  async backfill(
    start: BackfillStart,
    env: Omit<BackfillEnvironment, 'project' | 'storage' | 'warehouse' | 'landing' | 'signal'>,
    signal: AbortSignal,
  ): Promise<BackfillOutcome> {
    const storage = await this.storage();
    const keys = 'request' in start ? start.request.keys : start.keys;
    return this.withWarehouse({ keys, signal }, (warehouse) => {
      const observers = [...this.#observers, ...(env.observers ?? [])];
      const full: BackfillEnvironment = { ...env, project: this.project, storage, warehouse, landing: this.landing, signal, observers };
      return 'request' in start ? startBackfill(full, start.request) : resumeBackfill(full, start.resume, start.keys, start.options);
    });
  }

  /**
   * Records a run that ended before it started (the warehouse wait canceled, checks naming
   * missing columns) as failed or canceled, with its event, and says so; returns the message.
   * Given the run's `plan`, a definition error also records a `step_failure` for each planned
   * step of an asset it names, so staleness and automation see those assets as failed (eager
   * automation then retries once instead of at every tick).
   */
  async recordUnstarted(queued: RunRecord, error: unknown, canceled: boolean, plan?: Plan): Promise<string> {
    const storage = await this.storage();
    const message = messageOf(error);
    await storage.createRun({ ...queued, status: canceled ? 'canceled' : 'failed', endedAt: Date.now(), error: message });
    const events = new RunEvents(queued.id);
    const event = events.run(
      canceled ? 'run_canceled' : 'run_failure',
      canceled ? 'run canceled before it started' : `run could not start: ${message}`,
      canceled ? 'warn' : 'error',
      { keys: [...queued.assetKeys] },
    );
    const named = canceled || plan === undefined ? [] : plan.steps.filter((step) => assetsNamedBy(error).has(step.key));
    const failures = named.flatMap((step) =>
      (step.partitions ?? [null]).map((p) =>
        events.step('step_failure', step.key, p, `${step.id} failed: ${message}`, 'error', {
          error: message,
          canceled: false,
          durationMs: 0,
          definitionError: true,
          ...rangeData(step),
        }),
      ),
    );
    await storage.appendEvents([...failures, event]);
    tellObservers(this.#observers, [...failures, event]);
    this.#notice(`run ${queued.id.slice(0, 8)} ${canceled ? 'canceled' : 'failed'} before it started: ${message}`);
    return message;
  }
}

/** The asset keys a definition error (or several) names. */
function assetsNamedBy(error: unknown): Set<string> {
  const errors = error instanceof DefinitionErrors ? error.errors : error instanceof DefinitionError ? [error] : [];
  return new Set(errors.flatMap((e) => (e.context.assetKey === undefined ? [] : [e.context.assetKey])));
}

/**
 * Checks, in a rolled-back session of `warehouse`, that the checks of `keys` name columns their
 * tables have (a definition error otherwise).
 */
async function assertCheckColumnsIn(project: Project, warehouse: Warehouse, keys: readonly string[]): Promise<void> {
  const session = warehouse.session('strata/check-columns');
  try {
    await assertCheckColumns(project, keys, session);
  } finally {
    await session.rollback();
  }
}
