import { randomUUID } from 'node:crypto';
import { assertCheckColumnsIn } from '../core/engine/runs/run-preparation.ts';
import { newBackfillRecord, startBackfill, type BackfillRequest } from '../core/engine/execution/backfill-runner.ts';
import { reapDeadRuns } from '../core/engine/execution/dead-run-reaper.ts';
import { executeRun } from '../core/engine/execution/executor.ts';
import type { FullRefreshRequest } from '../core/engine/execution/full-refresh-request.ts';
import type { PreparedMaterialization } from '../core/engine/execution/materialize-request.ts';
import { RunEvents } from '../core/engine/execution/run-events.ts';
import type { LandingZone } from '../core/model/definitions/asset-context.ts';
import { messageOf } from '../core/engine/execution/step-helpers.ts';
import type { Project } from '../core/model/project.ts';
import type { Warehouse } from '../resources/warehouse.ts';
import type { BackfillRecord, EventRecord, RunRecord, Storage } from '../storage/storage.ts';
import { HttpError } from './api-error-handler.ts';
import type { SharedWarehouse } from './shared-warehouse.ts';

/** Who hears about the runs a {@link RunLauncher} starts (the live event stream). */
export interface LaunchListener {
  /** A run was accepted; it is `queued` until its process (this one) starts it. */
  runQueued(run: RunRecord): void;
  /** Something of this run changed in storage (an event was recorded, it ended). */
  runActivity(runId: string): void;
  /** An event that is never stored (`step_progress`), to pass on as it is. */
  liveEvent(event: EventRecord): void;
}

/** Routes a run's event to `listener`: live-only events as they are, the rest as storage activity. */
function tell(listener: LaunchListener, event: EventRecord): void {
  if (event.type === 'step_progress') listener.liveEvent(event);
  else listener.runActivity(event.runId);
}

/** What a {@link RunLauncher} runs with. */
export interface RunLauncherOptions {
  readonly project: Project;
  readonly storage: () => Promise<Storage>;
  readonly warehouse: SharedWarehouse;
  readonly landing: LandingZone;
  readonly listener: LaunchListener;
  /** Where background news goes: dead runs reaped, waiting for the warehouse, a run that could not start. */
  readonly notice: (message: string) => void;
}

/** A checked materialize request, ready to run. */
export interface RunLaunch {
  readonly prepared: PreparedMaterialization;
  readonly select: string;
  readonly partition?: string | undefined;
  readonly now: Date;
  /** A full refresh (checked): incremental assets rebuilt, the forced snapshots too. */
  readonly refresh?: FullRefreshRequest;
}

/**
 * Runs materializations and backfills in the background of the UI server with the engine of
 * `assets materialize` and `assets backfill`: reap dead runs, open the shared warehouse (waiting
 * while another process holds it), check the checks' columns, execute. Ids are chosen up front
 * so the API can answer at once; until storage has the record, {@link pendingRun} and
 * {@link pendingBackfill} stand in for it. {@link close} cancels what runs and waits for it.
 */
export class RunLauncher {
  readonly #o: RunLauncherOptions;
  readonly #controller = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  readonly #pendingRuns = new Map<string, RunRecord>();
  readonly #pendingBackfills = new Map<string, BackfillRecord>();
  /** What cancels each run and backfill this launcher is working on, by id. */
  readonly #cancels = new Map<string, AbortController>();

  constructor(options: RunLauncherOptions) {
    this.#o = options;
  }

  /** Starts a run of `launch.prepared.plan`; returns its id at once. */
  launchRun(launch: RunLaunch): string {
    this.#assertOpen();
    const runId = randomUUID();
    const keys = [...new Set(launch.prepared.plan.steps.map((s) => s.key))];
    const tags: Record<string, string> = { launched_by: 'ui', ...(launch.partition === undefined ? {} : { partition: launch.partition }) };
    const queued: RunRecord = {
      id: runId,
      status: 'queued',
      trigger: 'manual',
      selection: launch.select,
      assetKeys: keys,
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
      error: null,
      tags,
    };
    this.#pendingRuns.set(runId, queued);
    this.#o.listener.runQueued(queued);
    this.#track(runId, (signal) => this.#materialize(queued, launch, signal));
    return runId;
  }

  /** Starts a backfill; returns its id at once. */
  launchBackfill(request: Omit<BackfillRequest, 'id'>, now: Date, refresh?: FullRefreshRequest): string {
    this.#assertOpen();
    const id = randomUUID();
    // Shown as running with nothing planned yet while it waits for the warehouse.
    this.#pendingBackfills.set(id, newBackfillRecord(id, request, 0));
    this.#track(id, (signal) => this.#backfill({ ...request, id }, now, signal, refresh));
    return id;
  }

  /** Accepted runs not yet in storage (waiting for the warehouse), newest first. */
  pendingRuns(): RunRecord[] {
    return [...this.#pendingRuns.values()].reverse();
  }

  /** A run accepted but not yet in storage, by id or unique id prefix. */
  pendingRun(id: string): RunRecord | undefined {
    return byPrefix(this.#pendingRuns, id);
  }

  /** Accepted backfills not yet in storage (waiting for the warehouse), newest first. */
  pendingBackfills(): BackfillRecord[] {
    return [...this.#pendingBackfills.values()].reverse();
  }

  /** A backfill accepted but not yet in storage, by id or unique id prefix. */
  pendingBackfill(id: string): BackfillRecord | undefined {
    return byPrefix(this.#pendingBackfills, id);
  }

  /**
   * Cancels a run or backfill this launcher is working on (running steps roll back); false
   * when it has none with this id (another process runs it, or it has ended).
   */
  cancel(id: string): boolean {
    const controller = this.#cancels.get(id);
    controller?.abort();
    return controller !== undefined;
  }

  /** Runs and backfills going on now. */
  get active(): number {
    return this.#tasks.size;
  }

  /** Cancels every run going on (running steps roll back) and waits until all have ended. */
  async close(): Promise<void> {
    this.#controller.abort();
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #assertOpen(): void {
    if (this.#controller.signal.aborted) throw new HttpError(503, 'shutting_down', 'the server is shutting down: it launches nothing more');
  }

  /** Runs `work` in the background with a signal that {@link cancel} (for `id`) or {@link close} aborts. */
  #track(id: string, work: (signal: AbortSignal) => Promise<void>): void {
    const own = new AbortController();
    this.#cancels.set(id, own);
    const tracked = work(AbortSignal.any([this.#controller.signal, own.signal]))
      .catch((error: unknown) => this.#o.notice(`background run failed: ${messageOf(error)}`))
      .finally(() => {
        this.#cancels.delete(id);
        this.#tasks.delete(tracked);
      });
    this.#tasks.add(tracked);
  }

  async #materialize(queued: RunRecord, launch: RunLaunch, signal: AbortSignal): Promise<void> {
    const { project, landing, listener } = this.#o;
    const storage = await this.#o.storage();
    try {
      await this.#withWarehouse(storage, queued.assetKeys, signal, async (warehouse) => {
        await executeRun({
          project,
          plan: launch.prepared.plan,
          storage,
          warehouse,
          landing,
          selection: launch.select,
          trigger: 'manual',
          runId: queued.id,
          signal,
          now: launch.now,
          tags: queued.tags,
          ...refreshOptions(launch.refresh),
          onEvent: (event) => {
            this.#pendingRuns.delete(event.runId);
            tell(listener, event);
          },
        });
      });
    } catch (error) {
      if (await storage.getRun(queued.id)) throw error;
      await this.#recordUnstarted(storage, queued, error, signal.aborted);
    } finally {
      this.#pendingRuns.delete(queued.id);
      listener.runActivity(queued.id);
    }
  }

  async #backfill(request: BackfillRequest & { readonly id: string }, now: Date, signal: AbortSignal, refresh: FullRefreshRequest | undefined): Promise<void> {
    const { project, landing, listener } = this.#o;
    const storage = await this.#o.storage();
    try {
      await this.#withWarehouse(storage, request.keys, signal, (warehouse) =>
        startBackfill(
          {
            project,
            storage,
            warehouse,
            landing,
            now,
            signal,
            ...refreshOptions(refresh),
            onPlan: () => void this.#pendingBackfills.delete(request.id),
            onEvent: (event) => tell(listener, event),
          },
          request,
        ),
      );
    } catch (error) {
      if (await storage.getBackfill(request.id)) throw error;
      const pending = this.#pendingBackfills.get(request.id);
      const status = signal.aborted ? 'canceled' : 'failed';
      if (pending) await storage.createBackfill({ ...pending, status, error: messageOf(error), updatedAt: Date.now() });
      this.#o.notice(`backfill ${request.id.slice(0, 8)} ${status} before it started: ${messageOf(error)}`);
    } finally {
      this.#pendingBackfills.delete(request.id);
    }
  }

  /** Reaps dead runs, then holds the shared warehouse (checking the checks' columns) around `work`. */
  async #withWarehouse<T>(storage: Storage, keys: readonly string[], signal: AbortSignal, work: (warehouse: Warehouse) => Promise<T>): Promise<T> {
    const { project, notice } = this.#o;
    for (const run of await reapDeadRuns(storage, { now: Date.now(), timeoutMs: project.config.heartbeat.timeoutMs })) {
      notice(`run ${run.runId.slice(0, 8)} marked failed: ${run.error}`);
    }
    const warehouse = await this.#o.warehouse.acquire(signal, ({ pid }) =>
      notice(`waiting for the warehouse ${project.config.warehouseFile}: ${pid === undefined ? 'another process' : `process ${pid}`} is using it`),
    );
    try {
      await assertCheckColumnsIn(project, warehouse, keys);
      return await work(warehouse);
    } finally {
      await this.#o.warehouse.release();
    }
  }

  /** A run that ended before it started (warehouse wait canceled, bad check columns): stored as failed or canceled. */
  async #recordUnstarted(storage: Storage, queued: RunRecord, error: unknown, canceled: boolean): Promise<void> {
    const message = messageOf(error);
    const at = Date.now();
    await storage.createRun({ ...queued, status: canceled ? 'canceled' : 'failed', endedAt: at, error: message });
    const event = new RunEvents(queued.id).run(
      canceled ? 'run_canceled' : 'run_failure',
      canceled ? 'run canceled before it started' : `run could not start: ${message}`,
      canceled ? 'warn' : 'error',
    );
    await storage.appendEvents([event]);
    this.#o.notice(`run ${queued.id.slice(0, 8)} ${canceled ? 'canceled' : 'failed'} before it started: ${message}`);
  }
}

/** The executor's and backfill runner's options for a full refresh (none without one). */
function refreshOptions(refresh: FullRefreshRequest | undefined): { fullRefresh?: true; forcedSnapshots?: readonly string[] } {
  return refresh?.fullRefresh ? { fullRefresh: true, forcedSnapshots: refresh.forcedSnapshots } : {};
}

/** The record with this id, or the only one whose id starts with it. */
function byPrefix<T>(records: ReadonlyMap<string, T>, id: string): T | undefined {
  const exact = records.get(id);
  if (exact !== undefined) return exact;
  const matches = [...records.keys()].filter((key) => key.startsWith(id));
  return matches.length === 1 ? records.get(matches[0] as string) : undefined;
}
