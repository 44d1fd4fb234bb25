import { createHash, randomUUID } from 'node:crypto';
import { keyToTable } from '../definitions/asset-key.ts';
import type { AssetDefinition } from '../definitions/asset-spec.ts';
import type { Plan, PlanStep } from '../planning/plan.ts';
import { definitionOf, type Project } from '../project/project-loader.ts';
import type { DuckDBWarehouse, StepSession } from '../../resources/duckdb-warehouse.ts';
import type { EventRecord, MaterializationRecord, RunStatus, RunTrigger, Storage } from '../../storage/storage.ts';
import type { AssetContext, LandingZone, MaterializeResult } from './asset-context.ts';
import { RunEvents } from './run-events.ts';

/** Everything one run needs. */
export interface ExecuteRunOptions {
  readonly project: Project;
  readonly plan: Plan;
  readonly storage: Storage;
  readonly warehouse: DuckDBWarehouse;
  readonly landing: LandingZone;
  /** The selection string, recorded on the run. */
  readonly selection: string;
  readonly trigger?: RunTrigger;
  /** Steps run at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** Aborting cancels the run: running steps roll back, the rest are skipped. */
  readonly signal?: AbortSignal;
  /** Called for every event as it is recorded (progress output, live UI). */
  readonly onEvent?: (event: EventRecord) => void;
  readonly runId?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** How one step ended. */
export type StepStatus = 'success' | 'failed' | 'skipped' | 'canceled';

/** The outcome of one step. */
export interface StepOutcome {
  readonly key: string;
  readonly status: StepStatus;
  readonly error?: string;
  readonly rowCount?: number | null;
  readonly durationMs: number;
}

/** The outcome of a run, steps in plan order. */
export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly steps: readonly StepOutcome[];
  readonly error?: string;
}

/**
 * Executes a plan: steps run in topological order with bounded concurrency; each step
 * writes inside one DuckDB transaction, then records its materialization and events in one
 * storage transaction. A failed step skips everything downstream of it; an aborted signal
 * rolls back running steps and records the run as canceled.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunResult> {
  return new RunExecution(options).execute();
}

class RunExecution {
  readonly #o: ExecuteRunOptions;
  readonly #runId: string;
  readonly #events: RunEvents;
  readonly #outcomes = new Map<string, StepOutcome>();
  readonly #sessions = new Set<StepSession>();
  readonly #dataVersions = new Map<string, string>();
  /** Planned steps waiting on each step. */
  readonly #dependents = new Map<string, string[]>();

  constructor(options: ExecuteRunOptions) {
    this.#o = options;
    for (const step of options.plan.steps) {
      for (const up of step.waitsFor) {
        const list = this.#dependents.get(up);
        if (list) list.push(step.key);
        else this.#dependents.set(up, [step.key]);
      }
    }
    this.#runId = options.runId ?? randomUUID();
    this.#events = new RunEvents(this.#runId);
  }

  async execute(): Promise<RunResult> {
    const { storage, plan, project } = this.#o;
    const keys = plan.steps.map((s) => s.key);
    const startedAt = Date.now();
    await storage.createRun({
      id: this.#runId,
      status: 'running',
      trigger: this.#o.trigger ?? 'manual',
      selection: this.#o.selection,
      assetKeys: keys,
      createdAt: startedAt,
      startedAt,
      endedAt: null,
      error: null,
      tags: this.#o.tags ?? {},
    });
    await storage.recordLineage(project.definitionVersion, project.graph.keys.flatMap((k) => project.graph.parents(k).map((p) => ({ upstream: p, downstream: k }))));
    await this.#append([this.#events.run('run_start', `run started: ${keys.length} step${keys.length === 1 ? '' : 's'} (${this.#o.selection})`, 'info', { steps: keys.length })]);

    const onAbort = () => {
      for (const session of this.#sessions) session.interrupt();
    };
    this.#o.signal?.addEventListener('abort', onAbort);
    try {
      await this.#loadInputVersions(keys);
      await this.#o.warehouse.ensureSchemas(keys.map((k) => keyToTable(k).schema));
      await this.#schedule(plan.steps);
    } catch (error) {
      return this.#finish('failed', `run aborted: ${messageOf(error)}`);
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
    }
    if (this.#o.signal?.aborted) return this.#finish('canceled', 'run canceled');
    const failed = [...this.#outcomes.values()].filter((o) => o.status === 'failed');
    if (failed.length > 0) return this.#finish('failed', `${failed.length} step${failed.length === 1 ? '' : 's'} failed: ${failed.map((f) => f.key).join(', ')}`);
    return this.#finish('success');
  }

  /** Runs ready steps, at most `concurrency` at once, in topological order. */
  async #schedule(steps: readonly PlanStep[]): Promise<void> {
    const concurrency = Math.max(1, this.#o.concurrency ?? this.#o.project.config.concurrency);
    const waiting = new Map(steps.map((s) => [s.key, s.waitsFor.length]));
    const order = new Map(steps.map((s, i) => [s.key, i]));
    const ready = steps.filter((s) => s.waitsFor.length === 0).map((s) => s.key);
    const running = new Map<string, Promise<void>>();

    const release = (key: string, ok: boolean) => {
      for (const child of this.#dependents.get(key) ?? []) {
        if (!ok) {
          if (this.#o.signal?.aborted) this.#skip(child, 'run canceled', 'canceled');
          else this.#skip(child, `upstream ${key} did not succeed`);
          continue;
        }
        const left = (waiting.get(child) ?? 1) - 1;
        waiting.set(child, left);
        if (left === 0 && !this.#outcomes.has(child)) insertSorted(ready, child, order);
      }
    };

    while (ready.length > 0 || running.size > 0) {
      while (ready.length > 0 && running.size < concurrency && !this.#o.signal?.aborted) {
        const key = ready.shift() as string;
        if (this.#outcomes.has(key)) continue;
        running.set(
          key,
          this.#runStep(key).then((ok) => {
            running.delete(key);
            release(key, ok);
          }),
        );
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    for (const step of steps) if (!this.#outcomes.has(step.key)) this.#skip(step.key, 'run canceled', 'canceled');
    await this.#flushSkips();
  }

  #pendingSkips: EventRecord[] = [];

  #skip(key: string, reason: string, status: StepStatus = 'skipped'): void {
    if (this.#outcomes.has(key)) return;
    this.#outcomes.set(key, { key, status, error: reason, durationMs: 0 });
    this.#pendingSkips.push(this.#events.step('step_skipped', key, `skipped: ${reason}`, 'warn', { reason }));
    // Everything downstream of a skipped step is skipped too.
    for (const child of this.#dependents.get(key) ?? []) this.#skip(child, reason, status);
  }

  async #flushSkips(): Promise<void> {
    const events = this.#pendingSkips.splice(0);
    if (events.length > 0) await this.#append(events);
  }

  /** Runs one step; resolves to whether it succeeded. Never rejects. */
  async #runStep(key: string): Promise<boolean> {
    await this.#flushSkips();
    const definition = definitionOf(this.#o.project, key);
    const started = performance.now();
    await this.#append([this.#events.step('step_start', key, `started ${key}`)]);
    const session = this.#o.warehouse.session(key);
    this.#sessions.add(session);
    const logs: EventRecord[] = [];
    try {
      const result = (await untilAborted(this.#compute(definition, session, logs), this.#o.signal)) ?? {};
      if (this.#o.signal?.aborted) throw new CanceledError();
      await session.commit();
      const rowCount = result.rowCount ?? session.rowsWritten ?? null;
      const materialization = this.#materialization(definition, result, rowCount);
      this.#dataVersions.set(key, materialization.dataVersion);
      const durationMs = performance.now() - started;
      await this.#commit(
        [
          ...logs,
          this.#events.step('materialization', key, `materialized ${key}${rowCount === null ? '' : ` (${rowCount} rows)`}`, 'info', {
            rowCount,
            dataVersion: materialization.dataVersion,
            codeVersion: materialization.codeVersion,
          }),
          this.#events.step('step_success', key, `finished ${key} in ${durationMs.toFixed(0)} ms`, 'info', { durationMs, rowCount }),
        ],
        materialization,
      );
      this.#outcomes.set(key, { key, status: 'success', rowCount, durationMs });
      return true;
    } catch (error) {
      await session.rollback();
      const canceled = error instanceof CanceledError || this.#o.signal?.aborted === true;
      const message = canceled ? 'canceled, rolled back' : messageOf(error);
      const durationMs = performance.now() - started;
      this.#outcomes.set(key, { key, status: canceled ? 'canceled' : 'failed', error: message, durationMs });
      await this.#commit([...logs, this.#events.step('step_failure', key, canceled ? `${key} ${message}` : `${key} failed: ${message}`, 'error', { error: message, canceled, durationMs })]);
      return false;
    } finally {
      this.#sessions.delete(session);
    }
  }

  async #compute(definition: AssetDefinition, session: StepSession, logs: EventRecord[]): Promise<MaterializeResult | void> {
    const { compute, spec } = definition;
    if (compute.type === 'sql') {
      if (compute.materialization === 'view') {
        await session.replaceView(compute.sql);
        return {};
      }
      return { rowCount: await session.replaceTable(compute.sql) };
    }
    const log = (level: 'info' | 'warn') => (message: string) => {
      const event = this.#events.step('log', spec.key, message, level);
      logs.push(event);
      this.#o.onEvent?.(event);
    };
    const ctx: AssetContext = {
      key: spec.key,
      runId: this.#runId,
      table: session.tableOf(spec.key),
      deps: spec.deps,
      warehouse: session,
      landing: this.#o.landing,
      log: { info: log('info'), warn: log('warn') },
      signal: this.#o.signal ?? new AbortController().signal,
    };
    return compute.materialize(ctx);
  }

  #materialization(definition: AssetDefinition, result: MaterializeResult, rowCount: number | null): MaterializationRecord {
    const key = definition.spec.key;
    const codeVersion = this.#o.project.codeVersions.get(key) ?? 'unknown';
    const inputs: Record<string, string> = {};
    for (const parent of this.#o.project.graph.parents(key)) {
      const version = this.#dataVersions.get(parent);
      if (version !== undefined) inputs[parent] = version;
    }
    // Without inputs or a user-given version, every write is new data: the run id makes it unique.
    const basis = `${codeVersion}\n${JSON.stringify(inputs)}\n${Object.keys(inputs).length === 0 ? this.#runId : ''}`;
    const dataVersion = result.dataVersion ?? createHash('sha256').update(basis).digest('hex').slice(0, 16);
    return {
      assetKey: key,
      partition: null,
      runId: this.#runId,
      timestamp: Date.now(),
      codeVersion,
      dataVersion,
      inputDataVersions: inputs,
      rowCount,
      metadata: result.metadata ?? {},
    };
  }

  async #loadInputVersions(keys: readonly string[]): Promise<void> {
    const graph = this.#o.project.graph;
    const parents = new Set(keys.flatMap((k) => graph.parents(k)));
    if (parents.size === 0) return;
    for (const m of await this.#o.storage.latestMaterializations([...parents])) {
      if (m.partition === null) this.#dataVersions.set(m.assetKey, m.dataVersion);
    }
  }

  async #append(events: EventRecord[]): Promise<void> {
    await this.#o.storage.appendEvents(events);
    for (const event of events) this.#o.onEvent?.(event);
  }

  async #commit(events: EventRecord[], materialization?: MaterializationRecord): Promise<void> {
    await this.#o.storage.commitStep({ events, ...(materialization ? { materializations: [materialization] } : {}) });
    for (const event of events) if (event.type !== 'log') this.#o.onEvent?.(event);
  }

  async #finish(status: RunStatus, error?: string): Promise<RunResult> {
    await this.#flushSkips();
    const type = status === 'success' ? 'run_success' : status === 'canceled' ? 'run_canceled' : 'run_failure';
    const message = status === 'success' ? 'run succeeded' : (error ?? status);
    await this.#append([this.#events.run(type, message, status === 'success' ? 'info' : 'error')]);
    await this.#o.storage.updateRun(this.#runId, { status, endedAt: Date.now(), error: error ?? null });
    const steps = this.#o.plan.steps.map((s) => this.#outcomes.get(s.key) ?? { key: s.key, status: 'skipped' as const, durationMs: 0 });
    return { runId: this.#runId, status, steps, ...(error === undefined ? {} : { error }) };
  }
}

class CanceledError extends Error {}

/** Settles with `work`, or rejects with {@link CanceledError} as soon as `signal` aborts (a step that ignores it cannot hold the run). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new CanceledError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CanceledError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function insertSorted(list: string[], key: string, order: ReadonlyMap<string, number>): void {
  const position = order.get(key) ?? 0;
  let i = list.length;
  while (i > 0 && (order.get(list[i - 1] as string) ?? 0) > position) i--;
  list.splice(i, 0, key);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
