import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { StrataError } from '../../model/errors.ts';
import type { ResolvedPartitions } from './step-compute.ts';
import type { PartitionScope } from '../../../resources/partition-writes.ts';
import type { CheckResultRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import { runChecks, type CheckHistory, type CheckRun, type CheckTarget } from './check-runner.ts';

/** A blocking check failed: the step's write must not be published. Carries every check the step ran. */
export class ChecksFailedError extends StrataError {
  readonly runs: readonly CheckRun[];

  constructor(message: string, assetKey: string, runs: readonly CheckRun[]) {
    super('check_failed', message, { assetKey }, false);
    this.runs = runs;
  }

  /** Every result of the step's checks, one per check and partition. */
  get results(): readonly CheckResultRecord[] {
    return this.runs.flatMap((r) => r.results);
  }
}

/** What {@link checkWrite} needs about one step. */
export interface StepCheckInput {
  readonly definition: AssetDefinition;
  readonly session: CheckTarget['session'] & { tableOf(key: string): string };
  readonly partitions: ResolvedPartitions | undefined;
  readonly scope: PartitionScope | undefined;
  readonly storage: Storage;
  readonly runId: string | null;
  readonly now: Date;
  /** The table's schema after the write, with the previous one (`schema(previous)` checks). */
  readonly schema?: CheckTarget['schemas'] | undefined;
}

/**
 * Runs an asset's checks against what a step just wrote, inside the step's transaction (so a
 * blocking failure can still roll the write back: write, audit, then publish). Returns every
 * result; throws {@link ChecksFailedError} when a blocking check failed or could not run.
 */
export async function checkWrite(input: StepCheckInput): Promise<CheckRun[]> {
  const { definition, session, partitions, scope } = input;
  const { spec } = definition;
  if (spec.checks.length === 0) return [];
  const target: CheckTarget = {
    key: spec.key,
    table: session.tableOf(spec.key),
    session,
    tableOf: (key) => session.tableOf(key),
    ...(scope ? { scope } : {}),
    partitions: partitions ? partitions.keys : [null],
    ...(partitions
      ? {
          templateValues: {
            partition_key: partitions.key,
            ...(partitions.start ? { partition_start: partitions.start, partition_end: partitions.end as string } : {}),
          },
        }
      : {}),
    history: spec.checks.some((c) => c.type === 'row_count_anomaly') ? await historyOf(input) : EMPTY_HISTORY,
    runId: input.runId,
    now: input.now,
    ...(input.schema === undefined ? {} : { schemas: input.schema }),
  };
  const runs = await runChecks(spec.checks, target);
  const aborted = runs.find((r) => r.abortedTransaction);
  if (aborted) {
    const message = `check ${aborted.check.name} could not run and its error aborted the write's transaction, nothing published: ${describeFailure(aborted)}`;
    throw new ChecksFailedError(message, spec.key, runs);
  }
  const blocking = runs.filter((r) => r.check.blocking && r.results.some((result) => !result.passed));
  if (blocking.length > 0) {
    throw new ChecksFailedError(
      `blocking check${blocking.length === 1 ? '' : 's'} failed, nothing published: ${blocking.map(describeFailure).join('; ')}`,
      spec.key,
      runs,
    );
  }
  return runs;
}

/**
 * `unique(order_id): 3 violations in 2025-03-14 (order_id=1042, duplicates=2)`, or for a check
 * that could not run, `known_customers: could not run: Catalog Error: Table with name … does not exist!`.
 */
export function describeFailure(run: CheckRun): string {
  const error = run.results.find((r) => r.error !== undefined)?.error;
  if (error !== undefined) return `${run.check.name}: could not run: ${error}`;
  const failed = run.results.filter((r) => !r.passed);
  const violations = failed.reduce((sum, r) => sum + r.violations, 0);
  const where = failed.length === 1 && failed[0]?.partition ? ` in ${failed[0].partition}` : failed.length > 1 ? ` in ${failed.length} partitions` : '';
  const first = failed.find((r) => r.sample.length > 0)?.sample[0];
  const example = first
    ? ` (${Object.entries(first)
        .slice(0, 4)
        .map(([k, v]) => `${k}=${shortValue(v)}`)
        .join(', ')})`
    : '';
  return `${run.check.name}: ${violations} violation${violations === 1 ? '' : 's'}${where}${example}`;
}

/** A sample value for a message: dates as ISO text (a midnight as its date), long text cut. */
function shortValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString().replace('T00:00:00.000Z', '');
  const text = String(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

const EMPTY_HISTORY: CheckHistory = { partitionKeys: [], rowCounts: new Map(), previousCounts: [] };

/** Stored row counts of the asset: latest per partition, or earlier materializations when unpartitioned. */
async function historyOf(input: StepCheckInput): Promise<CheckHistory> {
  const { spec } = input.definition;
  if (!spec.partitions) {
    const earlier = await input.storage.materializationHistory(spec.key, { partition: null, limit: 100 });
    return { partitionKeys: [], rowCounts: new Map(), previousCounts: earlier.flatMap((m) => (m.rowCount === null ? [] : [m.rowCount])).reverse() };
  }
  const latest = await input.storage.latestMaterializations([spec.key]);
  return {
    partitionKeys: spec.partitions.keys(input.now),
    rowCounts: latestRowCounts(latest),
    previousCounts: [],
  };
}

/** The stored row count of every partition, from its latest materialization. */
export function latestRowCounts(latest: readonly MaterializationRecord[]): Map<string, number> {
  return new Map(latest.flatMap((m) => (m.partition === null || m.rowCount === null ? [] : [[m.partition, m.rowCount] as const])));
}
