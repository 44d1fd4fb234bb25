import { randomUUID } from 'node:crypto';
import { keyToTable } from '../../model/definitions/asset-key.ts';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { Plan, PlanStep } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { definitionOf, type Project } from '../../model/project.ts';
import type { StepSession, Warehouse } from '../../../resources/warehouse.ts';
import type { CheckResultRecord, EventRecord, MaterializationRecord, RunStatus, RunTrigger, Storage } from '../../../storage/storage.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import { RunEvents, tellRecorded, type RecordedEventListener } from './run-events.ts';
import { materializationRecords } from './materialization-records.ts';
import { computeStep, stepPartitions } from './step-compute.ts';
import { stepSuccess } from './step-success.ts';
import { CanceledError, messageOf, rangeData, single, untilAborted } from './step-helpers.ts';
import { ReadyQueue } from './ready-queue.ts';
import { watchStepProgress } from './step-progress.ts';
import { observeRunSources, unobservedReasons } from './run-observation.ts';
import { checkRunSources, sourceCheckReasons } from './source-checks.ts';
import { checkEvents } from './check-events.ts';
import { checkWrite, ChecksFailedError } from './step-checks.ts';
import { retryDelayMs, type RetryPolicy } from '../../model/definitions/retry-policy.ts';
import { formatDuration } from '../../model/format/duration-text.js';
import { DefinitionError, ResourceError, type StrataError } from '../../model/errors.ts';
import type { HeartbeatSettings } from '../../model/config/heartbeat-settings.ts';
import { RunHeartbeat } from './run-heartbeat.ts';
import { RunLeases, type LeaseConflictPolicy } from './run-leases.ts';
import { withSystemTiming, type RunTiming } from '../../model/run-timing.ts';
import { ResourceSet } from '../../../resources/resource-set.ts';
import { forgetStepCommits, hasUnrecordedCommits, publishStep, recoverCommits, UnrecordedStepError, writeStepCommit } from './commit-recovery.ts';
import { RunSchemas } from './step-schema.ts';
import { recordRunColumnLineage } from '../lineage/run-column-lineage.ts';

/** Everything one run needs. */
export interface ExecuteRunOptions {
  readonly project: Project;
  readonly plan: Plan;
  readonly storage: Storage;
  readonly warehouse: Warehouse;
  readonly landing: LandingZone;
  /** The selection string, recorded on the run. */
  readonly selection: string;
  readonly trigger?: RunTrigger;
  /** Steps run at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** Aborting cancels the run: running steps roll back, the rest are skipped. */
  readonly signal?: AbortSignal;
  /** Called for every event as it is recorded (progress output, live UI), and for `step_progress` events, which are not recorded. */
  readonly onEvent?: (event: EventRecord) => void;
  /**
   * Told of every recorded event, after it is recorded (OpenLineage, alerts; see
   * run-observers.ts). Separate from `onEvent`, which also switches on step-progress watching.
   */
  readonly observers?: readonly RecordedEventListener[];
  /** Called when a step ends, with its outcome (progress bars). */
  readonly onStepEnd?: (outcome: StepOutcome) => void;
  readonly runId?: string;
  /**
   * The run `runId` is already recorded as running (a worker claimed it from the queue): it is
   * not created again (default: the executor creates it).
   */
  readonly claimed?: boolean;
  /**
   * Called just before each step publishes its data (a worker's run checks there that no other
   * process reaped and retried it meanwhile); a `CanceledError` thrown cancels the step unpublished.
   */
  readonly beforePublish?: () => Promise<void>;
  readonly tags?: Readonly<Record<string, string>>;
  /** The clock for partition mappings (default: now). */
  readonly now?: Date;
  /** `--full-refresh`: incremental assets are rebuilt from scratch instead of merged into. */
  readonly fullRefresh?: boolean;
  /** With `fullRefresh`: the snapshots whose history `--force` allows dropping (rebuilt from scratch). */
  readonly forcedSnapshots?: readonly string[];
  /**
   * When another live run holds a lease on a partition a step writes: `wait` until it is free
   * (default; logged once per holder) or `skip` the step (and what waits on it) with the reason.
   */
  readonly onLeaseConflict?: LeaseConflictPolicy;
  /** Heartbeat interval and timeout (default: the project's `heartbeat`). */
  readonly heartbeat?: Partial<HeartbeatSettings>;
  /** Between two lease attempts while waiting (default 500 ms). */
  readonly leasePollMs?: number;
  /** Clock, sleeps, timers and randomness of retries, lease waits and heartbeats (tests inject fakes). */
  readonly timing?: Partial<RunTiming>;
}

/** How one step ended. */
export type StepStatus = 'success' | 'failed' | 'skipped' | 'canceled';

/** The outcome of one step. */
export interface StepOutcome {
  readonly id: string;
  readonly key: string;
  readonly partitions: readonly string[] | null;
  readonly status: StepStatus;
  readonly error?: string;
  /**
   * The step failed on bad input, not retried: a definition error found when its query was bound
   * (e.g. a snapshot's unknown column) or a resource's bad configuration (an `env:` variable not set). Exit code 2.
   */
  readonly definitionError?: true;
  readonly rowCount?: number | null;
  readonly durationMs: number;
}

/** The leases a running step holds, and whether its last commit gave them back. */
interface HeldLeases {
  readonly step: PlanStep;
  released: boolean;
}

/** The outcome of a run, steps in plan order. */
export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly steps: readonly StepOutcome[];
  readonly error?: string;
}

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
  /** Sources this run could not observe (retries spent), or whose blocking checks failed, with the error. */
  readonly #unobserved = new Map<string, StrataError>();
  /** The run's signal, or one that never aborts: the steps' `ctx.signal`. */
  readonly #signal: AbortSignal;
  /** strata.json `"resources"`, opened on first use and closed when the run ends. */
  readonly #resources: ResourceSet;
  /** Each asset's latest schema, to compare a step's with (see step-schema.ts). */
  readonly #schemas: RunSchemas;

  constructor(options: ExecuteRunOptions) {
    this.#o = options;
    this.#runId = options.runId ?? randomUUID();
    this.#now = options.now ?? new Date();
    this.#events = new RunEvents(this.#runId);
    this.#signal = options.signal ?? new AbortController().signal;
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
        this.#append([
          this.#events.step('log', step.key, step.partitions?.length === 1 ? (step.partitions[0] as string) : null, message, 'warn', {
            lease: { heldBy: holder.runId, assetKey: holder.assetKey, partition: holder.partition },
          }),
        ]),
    });
    this.#heartbeat = new RunHeartbeat({ storage: options.storage, runId: this.#runId, timing: this.#timing, ...heartbeat });
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
    await this.#append([this.#events.run('run_start', `run started: ${count} step${count === 1 ? '' : 's'} (${this.#o.selection})`, 'info', { steps: count })]);

    const onAbort = () => {
      for (const session of this.#sessions) session.interrupt();
    };
    this.#o.signal?.addEventListener('abort', onAbort);
    this.#heartbeat.start();
    try {
      await this.#recoverCommits();
      await this.#loadInputVersions(keys);
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
    if (events.length > 0) await this.#append(events);
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
    if (started) this.#told([started]);
    const held: HeldLeases = { step, released: false };
    try {
      return await this.#runLeasedStep(step, held);
    } finally {
      if (!held.released) await this.#leases.release(step);
    }
  }

  /**
   * Runs one step whose leases are held, retrying failed attempts as its retry policy says
   * (never a canceled one); only the last failure records `step_failure`. Never rejects.
   */
  async #runLeasedStep(step: PlanStep, held: HeldLeases): Promise<boolean> {
    const { key } = step;
    const definition = definitionOf(this.#o.project, key);
    const partition = single(step);
    const started = performance.now();
    const stepStart = new Date();
    // Anything written after this point is newer than what this step reads (see StalenessStore).
    const readSeq = await this.#o.storage.currentSequence();
    const partitions = stepPartitions(definition.spec, step);
    const column = definition.spec.partitionColumn;
    const complete = partitions !== undefined && partitions.list.length === this.#partitionCount(definition);
    const scope = partitions && column ? { column, partitions: partitions.list, complete } : undefined;
    const policy = definition.spec.retryPolicy ?? this.#o.project.config.retries;
    // Each attempt runs in a new session; a failed one rolls back before the next.
    for (let attempt = 1; ; attempt++) {
      const session = this.#o.warehouse.session(key, scope);
      this.#sessions.add(session);
      const { onEvent } = this.#o;
      const stopProgress =
        onEvent && watchStepProgress({ session, events: this.#events, key, partition, stepData: rangeData(step), timing: this.#timing, emit: onEvent });
      const logs: EventRecord[] = [];
      const log = (level: 'info' | 'warn') => (message: string) => {
        const event = this.#events.step('log', key, partition, message, level);
        logs.push(event);
        this.#o.onEvent?.(event);
      };
      try {
        // A commit this process could not record is recorded before this step's can be.
        if (hasUnrecordedCommits(this.#o.warehouse)) await this.#recoverCommits();
        const context = {
          runId: this.#runId,
          projectDir: this.#o.project.config.dir,
          landing: this.#o.landing,
          signal: this.#signal,
          log: { info: log('info'), warn: log('warn') },
          isAsset: this.#isAsset,
          stepStart,
          resources: this.#resources,
          fullRefresh: this.#o.fullRefresh === true,
          forcedSnapshots: this.#o.forcedSnapshots ?? [],
        };
        const result = (await untilAborted(computeStep(definition, session, partitions, context), this.#o.signal)) ?? {};
        if (this.#o.signal?.aborted) throw new CanceledError();
        // One read of the table's columns after the write: its schema history and schema(previous) checks.
        const schema = await this.#schemas.afterWrite(key, session, definition.compute.type !== 'typescript');
        // Write, audit, publish: checks read the new rows inside the step's transaction.
        const checks = await checkWrite({ definition, session, partitions, scope, storage: this.#o.storage, runId: this.#runId, now: this.#now, schema });
        const materializations = materializationRecords({
          project: this.#o.project,
          definition,
          step,
          result,
          session,
          runId: this.#runId,
          now: this.#now,
          dataVersions: this.#dataVersions,
          readSeq,
          schema,
        });
        const durationMs = performance.now() - started;
        const { commit, rowCount } = stepSuccess({ events: this.#events, step, logs, materializations, checks, result, session, durationMs, schema });
        await this.#o.beforePublish?.();
        // The warehouse keeps its own record of the commit, in the same transaction: if the
        // storage record below never happens, the next run records the step from it.
        const commitId = await writeStepCommit(this.#o.warehouse, session, this.#runId, step, commit);
        await publishStep(this.#o.warehouse, session, key, commitId, () => this.#commit(commit.events, commit.materializations, commit.checkResults, held));
        if (commitId !== undefined) this.#recordedCommits.push(commitId);
        this.#schemas.recorded(key, schema);
        this.#record({ id: step.id, key, partitions: step.partitions, status: 'success', rowCount, durationMs });
        return true;
      } catch (error) {
        await session.rollback();
        // Published, not recorded: neither canceled nor worth retrying (the next run records it).
        const published = error instanceof UnrecordedStepError;
        let canceled = !published && (error instanceof CanceledError || this.#o.signal?.aborted === true);
        let message = canceled ? 'canceled, rolled back' : messageOf(error);
        let unsaved = logs;
        // A failed blocking check is about the data, not a passing fault: retrying cannot help.
        const checkRuns = error instanceof ChecksFailedError ? error.runs : [];
        const checkResults = checkRuns.flatMap((r) => r.results);
        // Nor can a definition error found when the query was bound, or a resource's bad
        // configuration (an env: variable not set, a URL that is not one).
        const definitionError = error instanceof DefinitionError || (error instanceof ResourceError && error.userError);
        if (!canceled && !published && attempt <= policy.maxRetries && checkResults.length === 0 && !definitionError) {
          if (await this.#waitToRetry(step, attempt, policy, message, logs)) continue;
          [canceled, message, unsaved] = [true, 'canceled while waiting to retry', []];
        }
        const durationMs = performance.now() - started;
        // One failure event per partition, so each partition's last attempt is known.
        const failures = (step.partitions ?? [null]).map((p) =>
          this.#events.step('step_failure', key, p, canceled ? `${step.id} ${message}` : `${step.id} failed: ${message}`, 'error', {
            error: message,
            canceled,
            durationMs,
            ...rangeData(step),
          }),
        );
        // The checks' results go in the run's log too, the failed ones first of all.
        await this.#commit([...unsaved, ...checkEvents(this.#events, step, checkRuns), ...failures], undefined, checkResults, held);
        this.#record({
          id: step.id,
          key,
          partitions: step.partitions,
          status: canceled ? 'canceled' : 'failed',
          error: message,
          ...(definitionError ? { definitionError: true } : {}),
          durationMs,
        });
        return false;
      } finally {
        stopProgress?.();
        this.#sessions.delete(session);
      }
    }
  }

  /**
   * Records a `step_retry` event (with the failed attempt's logs) and waits the policy's delay;
   * resolves `false` when the run is canceled meanwhile.
   */
  async #waitToRetry(step: PlanStep, attempt: number, policy: RetryPolicy, error: string, logs: readonly EventRecord[]): Promise<boolean> {
    const delayMs = retryDelayMs(policy, attempt, () => this.#timing.random());
    const attempts = policy.maxRetries + 1;
    const message = `${step.id} failed (attempt ${attempt} of ${attempts}), retrying in ${formatDuration(delayMs)}: ${error}`;
    await this.#commit([
      ...logs,
      this.#events.step('step_retry', step.key, single(step), message, 'warn', { attempt, maxAttempts: attempts, delayMs, error, ...rangeData(step) }),
    ]);
    return this.#timing.sleep(delayMs, this.#o.signal);
  }

  /** Whether a key is an asset of the project (see TableOwnershipGuard). */
  readonly #isAsset = (key: string): boolean => this.#o.project.graph.has(key);

  readonly #partitionCounts = new Map<string, number>();

  /** How many partitions an asset has at the run's clock (memoized: listing keys is not free). */
  #partitionCount(definition: AssetDefinition): number {
    const { key, partitions } = definition.spec;
    let count = this.#partitionCounts.get(key);
    if (count === undefined) {
      count = partitions?.keys(this.#now).length ?? 0;
      this.#partitionCounts.set(key, count);
    }
    return count;
  }

  /** Observes the source assets the plan reads, then loads the data versions of every upstream asset. */
  async #loadInputVersions(keys: readonly string[]): Promise<void> {
    const { project, storage, landing } = this.#o;
    const parents = [...new Set(keys.flatMap((k) => project.graph.parents(k)))];
    if (parents.length === 0) return;
    const sources = parents.filter((k) => project.graph.spec(k).source);
    if (sources.length > 0) {
      const unobserved = await observeRunSources({
        project,
        storage,
        landing,
        sources,
        now: this.#now,
        resources: this.#resources,
        warehouse: this.#o.warehouse,
        timing: this.#timing,
        events: this.#events,
        append: (events) => this.#append(events),
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      });
      for (const [key, error] of unobserved) this.#unobserved.set(key, error);
      const reasons = unobservedReasons(project, keys, unobserved);
      const checked = await checkRunSources(
        project,
        this.#o.warehouse,
        sources.filter((k) => !unobserved.has(k)),
        this.#events,
        this.#runId,
        this.#now,
      );
      if (checked.events.length > 0) {
        await storage.commitStep({ events: checked.events, checkResults: checked.results });
        this.#told(checked.events);
      }
      for (const [key, error] of checked.failed) this.#unobserved.set(key, error);
      for (const [key, reason] of sourceCheckReasons(project, keys, checked.failed)) if (!reasons.has(key)) reasons.set(key, reason);
      for (const step of this.#o.plan.steps) {
        const reason = reasons.get(step.key);
        if (reason !== undefined) this.#skip(step.id, reason);
      }
      for (const o of await storage.latestObservations(sources)) this.#dataVersions.set(partitionId(o.assetKey, o.partition), o.dataVersion);
    }
    for (const m of await storage.latestMaterializations(parents.filter((k) => !project.graph.spec(k).source))) {
      this.#dataVersions.set(partitionId(m.assetKey, m.partition), m.dataVersion);
    }
  }

  async #append(events: EventRecord[]): Promise<void> {
    await this.#o.storage.appendEvents(events);
    this.#told(events);
  }

  /**
   * Tells `onEvent` and the observers of `events` once they are recorded; a step's logs, which
   * `onEvent` already saw live when `logsSeenLive`, go to the observers only.
   */
  #told(events: readonly EventRecord[], logsSeenLive = false, materializations?: readonly MaterializationRecord[]): void {
    for (const event of events) if (!(logsSeenLive && event.type === 'log')) this.#o.onEvent?.(event);
    tellRecorded(this.#o.observers, events, materializations);
  }

  /** Records a step's events, materializations and check results; gives back `held` leases in the same transaction. */
  async #commit(
    events: readonly EventRecord[],
    materializations?: readonly MaterializationRecord[],
    checkResults: readonly CheckResultRecord[] = [],
    held?: HeldLeases,
  ): Promise<void> {
    const release = held && !held.released ? { releaseLeases: this.#leases.releaseOf(held.step) } : {};
    await this.#o.storage.commitStep({
      events,
      ...(materializations ? { materializations } : {}),
      ...(checkResults.length > 0 ? { checkResults } : {}),
      ...release,
    });
    if (held) held.released = true;
    this.#told(events, true, materializations);
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
      await this.#append([this.#events.run('log', `column lineage not recorded: ${messageOf(error)}`, 'warn')]);
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
    if (events.length > 0) await this.#append(events);
  }

  async #finish(status: RunStatus, error?: string): Promise<RunResult> {
    await this.#resources.close();
    await forgetStepCommits(this.#o.warehouse, this.#recordedCommits.splice(0));
    await this.#heartbeat.stop();
    await this.#leases.releaseAll();
    await this.#flushSkips();
    const type = status === 'success' ? 'run_success' : status === 'canceled' ? 'run_canceled' : 'run_failure';
    const message = status === 'success' ? 'run succeeded' : (error ?? status);
    await this.#append([this.#events.run(type, message, status === 'success' ? 'info' : 'error')]);
    await this.#o.storage.updateRun(this.#runId, { status, endedAt: Date.now(), error: error ?? null });
    const steps = this.#o.plan.steps.map(
      (s) => this.#outcomes.get(s.id) ?? { id: s.id, key: s.key, partitions: s.partitions, status: 'skipped' as const, durationMs: 0 },
    );
    return { runId: this.#runId, status, steps, ...(error === undefined ? {} : { error }) };
  }
}
