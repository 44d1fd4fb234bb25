/**
 * One step of a run, once its leases are held: each attempt computes the asset in a new
 * warehouse session, audits and publishes it, and commits its records; a failed attempt rolls
 * back and is retried as the asset's retry policy says.
 */
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { PlanStep } from '../../model/planning/plan.ts';
import { definitionOf } from '../../model/project.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import type { ResourceSet } from '../../../resources/resource-set.ts';
import { retryDelayMs, type RetryPolicy } from '../../model/definitions/retry-policy.ts';
import { formatDuration } from '../../model/format/duration-text.js';
import { DefinitionError, ResourceError } from '../../model/errors.ts';
import type { RunTiming } from '../../model/run-timing.ts';
import type { RunEvents } from './run-events.ts';
import type { HeldLeases, RunRecorder } from './run-recorder.ts';
import type { ExecuteRunOptions, StepOutcome } from './run-execution-types.ts';
import { materializationRecords } from './materialization-records.ts';
import { computeStep, stepPartitions } from './step-compute.ts';
import { stepSuccess } from './step-success.ts';
import { CanceledError, messageOf, rangeData, single, untilAborted } from './step-helpers.ts';
import { watchStepProgress } from './step-progress.ts';
import { checkEvents } from './check-events.ts';
import { checkWrite, ChecksFailedError } from './step-checks.ts';
import { hasUnrecordedCommits, publishStep, UnrecordedStepError, writeStepCommit } from './commit-recovery.ts';
import type { RunSchemas } from './step-schema.ts';

/** What a step's attempts need of the run they belong to. */
export interface LeasedStepRun {
  readonly options: ExecuteRunOptions;
  readonly runId: string;
  /** The run's clock for partition keys and check results. */
  readonly now: Date;
  readonly events: RunEvents;
  readonly recorder: RunRecorder;
  readonly timing: RunTiming;
  /** The run's signal, or one that never aborts: the steps' `ctx.signal`. */
  readonly signal: AbortSignal;
  readonly resources: ResourceSet;
  readonly schemas: RunSchemas;
  /** The sessions of running attempts, which the run interrupts when it is aborted. */
  readonly sessions: Set<StepSession>;
  /** Data version of every asset partition known to the run, by `key@partition` (steps add theirs). */
  readonly dataVersions: Map<string, string>;
  /** Step commits storage has recorded, whose warehouse rows are deleted when the run ends. */
  readonly recordedCommits: string[];
  /** Records the step commits the warehouse holds and storage lacks. */
  readonly recoverCommits: () => Promise<void>;
  /** Keeps a step's outcome (and tells `onStepEnd`). */
  readonly record: (outcome: StepOutcome) => void;
}

/** Runs a run's steps whose leases are held. */
export class LeasedStepRunner {
  readonly #r: LeasedStepRun;
  readonly #partitionCounts = new Map<string, number>();

  constructor(run: LeasedStepRun) {
    this.#r = run;
  }

  /**
   * Runs one step whose leases are held, retrying failed attempts as its retry policy says
   * (never a canceled one); only the last failure records `step_failure`. Never rejects.
   */
  async run(step: PlanStep, held: HeldLeases): Promise<boolean> {
    const r = this.#r;
    const o = r.options;
    const { key } = step;
    const definition = definitionOf(o.project, key);
    const partition = single(step);
    const started = performance.now();
    const stepStart = new Date();
    // Anything written after this point is newer than what this step reads (see StalenessStore).
    const readSeq = await o.storage.currentSequence();
    const partitions = stepPartitions(definition.spec, step);
    const column = definition.spec.partitionColumn;
    const complete = partitions !== undefined && partitions.list.length === this.#partitionCount(definition);
    const scope = partitions && column ? { column, partitions: partitions.list, complete } : undefined;
    const policy = definition.spec.retryPolicy ?? o.project.config.retries;
    // Each attempt runs in a new session; a failed one rolls back before the next.
    for (let attempt = 1; ; attempt++) {
      const session = o.warehouse.session(key, scope);
      r.sessions.add(session);
      const { onEvent } = o;
      const stopProgress =
        onEvent && watchStepProgress({ session, events: r.events, key, partition, stepData: rangeData(step), timing: r.timing, emit: onEvent });
      const logs: EventRecord[] = [];
      const log = (level: 'info' | 'warn') => (message: string) => {
        const event = r.events.step('log', key, partition, message, level);
        logs.push(event);
        o.onEvent?.(event);
      };
      try {
        // A commit this process could not record is recorded before this step's can be.
        if (hasUnrecordedCommits(o.warehouse)) await r.recoverCommits();
        const context = {
          runId: r.runId,
          projectDir: o.project.config.dir,
          landing: o.landing,
          signal: r.signal,
          log: { info: log('info'), warn: log('warn') },
          isAsset: this.#isAsset,
          stepStart,
          resources: r.resources,
          fullRefresh: o.fullRefresh === true,
          forcedSnapshots: o.forcedSnapshots ?? [],
        };
        const result = (await untilAborted(computeStep(definition, session, partitions, context), o.signal)) ?? {};
        if (o.signal?.aborted) throw new CanceledError();
        // One read of the table's columns after the write: its schema history and schema(previous) checks.
        const schema = await r.schemas.afterWrite(key, session, definition.compute.type !== 'typescript');
        // Write, audit, publish: checks read the new rows inside the step's transaction.
        const checks = await checkWrite({ definition, session, partitions, scope, storage: o.storage, runId: r.runId, now: r.now, schema });
        const materializations = materializationRecords({
          project: o.project,
          definition,
          step,
          result,
          session,
          runId: r.runId,
          now: r.now,
          dataVersions: r.dataVersions,
          readSeq,
          schema,
        });
        const durationMs = performance.now() - started;
        const { commit, rowCount } = stepSuccess({ events: r.events, step, logs, materializations, checks, result, session, durationMs, schema });
        await o.beforePublish?.();
        // The warehouse keeps its own record of the commit, in the same transaction: if the
        // storage record below never happens, the next run records the step from it.
        const commitId = await writeStepCommit(o.warehouse, session, r.runId, step, commit);
        await publishStep(o.warehouse, session, key, commitId, () => r.recorder.commit(commit.events, commit.materializations, commit.checkResults, held));
        if (commitId !== undefined) r.recordedCommits.push(commitId);
        r.schemas.recorded(key, schema);
        r.record({ id: step.id, key, partitions: step.partitions, status: 'success', rowCount, durationMs });
        return true;
      } catch (error) {
        await session.rollback();
        // Published, not recorded: neither canceled nor worth retrying (the next run records it).
        const published = error instanceof UnrecordedStepError;
        let canceled = !published && (error instanceof CanceledError || o.signal?.aborted === true);
        let message = canceled ? 'canceled, rolled back' : messageOf(error);
        let unsaved = logs;
        // A failed blocking check is about the data, not a passing fault: retrying cannot help.
        const checkRuns = error instanceof ChecksFailedError ? error.runs : [];
        const checkResults = checkRuns.flatMap((c) => c.results);
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
          r.events.step('step_failure', key, p, canceled ? `${step.id} ${message}` : `${step.id} failed: ${message}`, 'error', {
            error: message,
            canceled,
            durationMs,
            ...rangeData(step),
          }),
        );
        // The checks' results go in the run's log too, the failed ones first of all.
        await r.recorder.commit([...unsaved, ...checkEvents(r.events, step, checkRuns), ...failures], undefined, checkResults, held);
        r.record({
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
        r.sessions.delete(session);
      }
    }
  }

  /**
   * Records a `step_retry` event (with the failed attempt's logs) and waits the policy's delay;
   * resolves `false` when the run is canceled meanwhile.
   */
  async #waitToRetry(step: PlanStep, attempt: number, policy: RetryPolicy, error: string, logs: readonly EventRecord[]): Promise<boolean> {
    const { timing, events, recorder, options } = this.#r;
    const delayMs = retryDelayMs(policy, attempt, () => timing.random());
    const attempts = policy.maxRetries + 1;
    const message = `${step.id} failed (attempt ${attempt} of ${attempts}), retrying in ${formatDuration(delayMs)}: ${error}`;
    await recorder.commit([
      ...logs,
      events.step('step_retry', step.key, single(step), message, 'warn', { attempt, maxAttempts: attempts, delayMs, error, ...rangeData(step) }),
    ]);
    return timing.sleep(delayMs, options.signal);
  }

  /** Whether a key is an asset of the project (see TableOwnershipGuard). */
  readonly #isAsset = (key: string): boolean => this.#r.options.project.graph.has(key);

  /** How many partitions an asset has at the run's clock (memoized: listing keys is not free). */
  #partitionCount(definition: AssetDefinition): number {
    const { key, partitions } = definition.spec;
    let count = this.#partitionCounts.get(key);
    if (count === undefined) {
      count = partitions?.keys(this.#r.now).length ?? 0;
      this.#partitionCounts.set(key, count);
    }
    return count;
  }
}
