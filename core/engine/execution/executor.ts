/**
 * `executeRun`: one run of a plan, from recording the run to its end. The run schedules its
 * steps (bounded concurrency, one step per asset at a time, skipping what waits on a failed
 * step), takes each step's leases and hands the step to LeasedStepRunner (leased-step.ts);
 * events are recorded through RunRecorder (run-recorder.ts), input versions loaded by
 * input-versions.ts.
 */
import { randomUUID } from 'node:crypto';
import { keyToTable } from '../../model/definitions/asset-key.ts';
import type { PlanStep } from '../../model/planning/plan.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { EventRecord, RunStatus } from '../../../storage/storage.ts';
import { RunEvents } from './run-events.ts';
import { messageOf, rangeData, single } from './step-helpers.ts';
import { ReadyQueue } from './ready-queue.ts';
import type { StrataError } from '../../model/errors.ts';
import { RunHeartbeat } from './run-heartbeat.ts';
import { RunLeases } from './run-leases.ts';
import { withSystemTiming, type RunTiming } from '../../model/run-timing.ts';
import { ResourceSet } from '../../../resources/resource-set.ts';
import { forgetStepCommits, recoverCommits } from './commit-recovery.ts';
import { RunSchemas } from './step-schema.ts';
import { recordRunColumnLineage } from '../lineage/run-column-lineage.ts';
import type { ExecuteRunOptions, RunResult, StepOutcome, StepStatus } from './run-execution-types.ts';
import { RunRecorder, type HeldLeases } from './run-recorder.ts';
import { LeasedStepRunner } from './leased-step.ts';
import { loadInputVersions } from './input-versions.ts';

export type { ExecuteRunOptions, RunResult, StepOutcome, StepStatus } from './run-execution-types.ts';

/**
 * Executes a plan: steps run in dependency order with bounded concurrency; each step writes
 * inside one DuckDB transaction, then records its materializations (one per partition) and
 * events in one storage transaction. A failed step skips everything that waits on it; an
 * aborted signal rolls back running steps and records the run as canceled.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunResult> {
  return new RunExecution(options).execute();
}

class RunExecution {
  readonly #o: ExecuteRunOptions;
  readonly #runId: string;
  readonly #now: Date;
  readonly #events: RunEvents;
  readonly #outcomes = new Map<string, StepOutcome>();
  readonly #sessions = new Set<StepSession>();
  /** Data version of every asset partition known to this run, by `key@partition`. */
  readonly #dataVersions = new Map<string, string>();
  /** Planned steps waiting on each step. */
  readonly #dependents = new Map<string, string[]>();
  readonly #steps: ReadonlyMap<string, PlanStep>;
  #pendingSkips: EventRecord[] = [];
  /** Step commits storage has recorded, whose warehouse rows are deleted when the run ends. */
  readonly #recordedCommits: string[] = [];
  readonly #timing: RunTiming;
  readonly #leases: RunLeases;
  readonly #heartbeat: RunHeartbeat;
  readonly #recorder: RunRecorder;
  readonly #stepRunner: LeasedStepRunner;
  /** Sources this run could not observe (retries spent), or whose blocking checks failed, with the error. */
  readonly #unobserved = new Map<string, StrataError>();
  /** strata.json `"resources"`, opened on first use and closed when the run ends. */
  readonly #resources: ResourceSet;
  /** Each asset's latest schema, to compare a step's with (see step-schema.ts). */
  readonly #schemas: RunSchemas;

  constructor(options: ExecuteRunOptions) {
    this.#o = options;
    this.#runId = options.runId ?? randomUUID();
    this.#now = options.now ?? new Date();
    this.#events = new RunEvents(this.#runId);
    this.#resources = new ResourceSet(options.project.config.resources);
    this.#schemas = new RunSchemas(options.storage);
    this.#timing = withSystemTiming(options.timing);
    const heartbeat = { ...options.project.config.heartbeat, ...options.heartbeat };
    this.#leases = new RunLeases({
      storage: options.storage,
      runId: this.#runId,
      ttlMs: heartbeat.timeoutMs,
      onConflict: options.onLeaseConflict ?? 'wait',
      timing: this.#timing,
      ...(options.leasePollMs === undefined ? {} : { pollMs: options.leasePollMs }),
      ...(options.signal ? { signal: options.signal } : {}),
      onWait: (step, message, holder) =>
        this.#recorder.append([
          this.#events.step('log', step.key, step.partitions?.length === 1 ? (step.partitions[0] as string) : null, message, 'warn', {
            lease: { heldBy: holder.runId, assetKey: holder.assetKey, partition: holder.partition },
          }),
        ]),
    });
    this.#recorder = new RunRecorder({ storage: options.storage, leases: this.#leases, onEvent: options.onEvent, observers: options.observers });
    this.#heartbeat = new RunHeartbeat({ storage: options.storage, runId: this.#runId, timing: this.#timing, ...heartbeat });
    this.#stepRunner = new LeasedStepRunner({
      options,
      runId: this.#runId,
      now: this.#now,
      events: this.#events,
      recorder: this.#recorder,
      timing: this.#timing,
      signal: options.signal ?? new AbortController().signal,
      resources: this.#resources,
      schemas: this.#schemas,
      sessions: this.#sessions,
      dataVersions: this.#dataVersions,
      recordedCommits: this.#recordedCommits,
      recoverCommits: () => this.#recoverCommits(),
      record: (outcome) => this.#record(outcome),
    });
    this.#steps = new Map(options.plan.steps.map((s) => [s.id, s]));
    for (const step of options.plan.steps) {
      for (const up of step.waitsFor) {
        const list = this.#dependents.get(up);
        if (list) list.push(step.id);
        else this.#dependents.set(up, [step.id]);
      }
    }
  }

  async execute(): Promise<RunResult> {
    const { storage, plan, project } = this.#o;
    const keys = [...new Set(plan.steps.map((s) => s.key))];
    const startedAt = Date.now();
    if (!this.#o.claimed) {
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
        heartbeatAt: this.#timing.now(),
        pid: process.pid,
      });
    }
    await storage.recordLineage(project.definitionVersion, project.graph.edges());
    const count = plan.steps.length;
    await this.#recorder.append([
      this.#events.run('run_start', `run started: ${count} step${count === 1 ? '' : 's'} (${this.#o.selection})`, 'info', { steps: count }),
    ]);

    const onAbort = () => {
      for (const session of this.#sessions) session.interrupt();
    };
    this.#o.signal?.addEventListener('abort', onAbort);
    this.#heartbeat.start();
    try {
      await this.#recoverCommits();
      await loadInputVersions({
        options: this.#o,
        runId: this.#runId,
        keys,
        now: this.#now,
        resources: this.#resources,
        timing: this.#timing,
        events: this.#events,
        recorder: this.#recorder,
        dataVersions: this.#dataVersions,
        unobserved: this.#unobserved,
        skip: (id, reason) => this.#skip(id, reason),
      });
      await this.#o.warehouse.ensureSchemas(keys.map((k) => keyToTable(k).schema));
      await this.#schedule(plan.steps);
    } catch (error) {
      // Ctrl-C while sources were observed (or input versions loaded) cancels, it does not fail.
      if (this.#o.signal?.aborted) return this.#finish('canceled', 'run canceled');
      return this.#finish('failed', `run aborted: ${messageOf(error)}`);
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
    }
    if (this.#o.signal?.aborted) return this.#finish('canceled', 'run canceled');
    await this.#recordColumnLineage();
    const failed = [...this.#outcomes.values()].filter((o) => o.status === 'failed');
    const unobserved = [...this.#unobserved.values()].map((e) => e.message);
    if (failed.length > 0 || unobserved.length > 0) {
      const names = failed
        .slice(0, 5)
        .map((f) => f.id)
        .join(', ');
      const steps = failed.length === 0 ? [] : [`${failed.length} step${failed.length === 1 ? '' : 's'} failed: ${names}${failed.length > 5 ? ', …' : ''}`];
      return this.#finish('failed', [...unobserved, ...steps].join('; '));
    }
    return this.#finish('success');
  }

  /** Runs ready steps, at most `concurrency` at once, in plan order. */
  async #schedule(steps: readonly PlanStep[]): Promise<void> {
    const concurrency = Math.max(1, this.#o.concurrency ?? this.#o.project.config.concurrency);
    const waiting = new Map(steps.map((s) => [s.id, s.waitsFor.length]));
    const order = new Map(steps.map((s, i) => [s.id, i]));
    // One step per asset at a time: partitions of one table written by concurrent DuckDB
    // transactions would conflict (creating the table, deleting rows). The queue knows.
    const ready = new ReadyQueue((index) => (steps[index] as PlanStep).key);
    steps.forEach((s, i) => s.waitsFor.length === 0 && ready.add(i));
    const running = new Map<string, Promise<void>>();

    const release = (id: string, ok: boolean) => {
      for (const child of this.#dependents.get(id) ?? []) {
        if (!ok) {
          if (this.#o.signal?.aborted) this.#skip(child, 'run canceled', 'canceled');
          else this.#skip(child, `upstream ${id} did not succeed`);
          continue;
        }
        const left = (waiting.get(child) ?? 1) - 1;
        waiting.set(child, left);
        if (left === 0 && !this.#outcomes.has(child)) ready.add(order.get(child) as number);
      }
    };

    while (ready.size > 0 || running.size > 0) {
      while (running.size < concurrency && !this.#o.signal?.aborted) {
        const index = ready.take();
        if (index === undefined) break;
        const step = steps[index] as PlanStep;
        const id = step.id;
        if (this.#outcomes.has(id)) {
          ready.finish(step.key);
          continue;
        }
        running.set(
          id,
          this.#runStep(step).then((ok) => {
            running.delete(id);
            ready.finish(step.key);
            release(id, ok);
          }),
        );
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    for (const step of steps) if (!this.#outcomes.has(step.id)) this.#skip(step.id, 'run canceled', 'canceled');
    await this.#flushSkips();
  }

  #skip(id: string, reason: string, status: StepStatus = 'skipped'): void {
    if (this.#outcomes.has(id)) return;
    const step = this.#steps.get(id) as PlanStep;
    this.#record({ id, key: step.key, partitions: step.partitions, status, error: reason, durationMs: 0 });
    this.#pendingSkips.push(this.#events.step('step_skipped', step.key, single(step), `skipped ${id}: ${reason}`, 'warn', { reason, ...rangeData(step) }));
    // Everything waiting on a skipped step is skipped too.
    for (const child of this.#dependents.get(id) ?? []) this.#skip(child, reason, status);
  }

  async #flushSkips(): Promise<void> {
    const events = this.#pendingSkips.splice(0);
    if (events.length > 0) await this.#recorder.append(events);
  }

  #record(outcome: StepOutcome): void {
    this.#outcomes.set(outcome.id, outcome);
    this.#o.onStepEnd?.(outcome);
  }

  /**
   * Runs one step holding the leases of the asset partitions it writes (waiting for, or
   * skipping on, another run's); resolves to whether it succeeded.
   */
  async #runStep(step: PlanStep): Promise<boolean> {
    await this.#flushSkips();
    // step_start is recorded in the transaction that takes the leases, and the leases go back
    // in the one that records how the step ended: two storage writes per step.
    let started: EventRecord | undefined;
    const leased = await this.#leases.acquire(step, () => [
      (started = this.#events.step('step_start', step.key, single(step), `started ${step.id}`, 'info', rangeData(step))),
    ]);
    if (!leased.ok) {
      this.#skip(step.id, leased.reason, leased.canceled ? 'canceled' : 'skipped');
      await this.#flushSkips();
      return false;
    }
    if (started) this.#recorder.told([started]);
    const held: HeldLeases = { step, released: false };
    try {
      return await this.#stepRunner.run(step, held);
    } finally {
      if (!held.released) await this.#leases.release(step);
    }
  }

  /**
   * Records the column lineage of the definition version, once per version (after the steps,
   * so the schemas they wrote expand `select *`); a failure is a warning in the run's log.
   */
  async #recordColumnLineage(): Promise<void> {
    const { project, storage } = this.#o;
    try {
      await recordRunColumnLineage({ project, storage, knownSchema: (key) => this.#schemas.known(key) });
    } catch (error) {
      await this.#recorder.append([this.#events.run('log', `column lineage not recorded: ${messageOf(error)}`, 'warn')]);
    }
  }

  /** Records the step commits the warehouse holds and storage lacks, saying so in this run's log. */
  async #recoverCommits(): Promise<void> {
    const recovered = await recoverCommits(this.#o.storage, this.#o.warehouse);
    const events = recovered.map((c) =>
      this.#events.step(
        'log',
        c.assetKey,
        null,
        `recorded the commit of ${c.stepId} from run ${c.runId.slice(0, 8)}, published in the warehouse but not recorded when that run stopped`,
        'warn',
        { recoveredFrom: c.runId },
      ),
    );
    if (events.length > 0) await this.#recorder.append(events);
  }

  async #finish(status: RunStatus, error?: string): Promise<RunResult> {
    await this.#resources.close();
    await forgetStepCommits(this.#o.warehouse, this.#recordedCommits.splice(0));
    await this.#heartbeat.stop();
    await this.#leases.releaseAll();
    await this.#flushSkips();
    const type = status === 'success' ? 'run_success' : status === 'canceled' ? 'run_canceled' : 'run_failure';
    const message = status === 'success' ? 'run succeeded' : (error ?? status);
    await this.#recorder.append([this.#events.run(type, message, status === 'success' ? 'info' : 'error')]);
    await this.#o.storage.updateRun(this.#runId, { status, endedAt: Date.now(), error: error ?? null });
    const steps = this.#o.plan.steps.map(
      (s) => this.#outcomes.get(s.id) ?? { id: s.id, key: s.key, partitions: s.partitions, status: 'skipped' as const, durationMs: 0 },
    );
    return { runId: this.#runId, status, steps, ...(error === undefined ? {} : { error }) };
  }
}
