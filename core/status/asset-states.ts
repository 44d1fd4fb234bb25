import { groupBy } from '../collections/group-by.ts';
import { toRanges } from '../partitions/index.ts';
import { lastAttemptFailed } from '../planning/last-attempt.ts';
import { partitionId } from '../planning/plan.ts';
import type { Project } from '../project/project-loader.ts';
import type { CheckResultRecord, MaterializationRecord, Storage, StepFailureRecord } from '../../storage/storage.ts';
import type { ObservationRecord } from '../../storage/staleness-store.ts';

/** Partition counts of a partitioned asset (observed partitions for source assets). */
export interface PartitionCounts {
  readonly total: number;
  readonly materialized: number;
  readonly missing: number;
  readonly failed: number;
  readonly missingRanges: readonly { from: string; to: string; count: number }[];
  readonly failedPartitions: readonly string[];
}

/**
 * The state of one asset with the same rules and words as `assets status --json`:
 * `materialized`, `missing`, `failed`, `code changed`; `partial` / `complete` for partitioned
 * assets; `observed`, `partial`, `not observed` for source assets.
 */
export interface AssetState {
  readonly key: string;
  readonly state: string;
  readonly lastMaterializedAt: number | null;
  readonly runId: string | null;
  readonly rowCount: number | null;
  readonly codeVersion: string | null;
  /** Latest outcome of the asset's checks: how many have results, failed (error) and warned. */
  readonly checks: { readonly total: number; readonly failed: number; readonly warned: number } | null;
  readonly partitions: PartitionCounts | null;
}

/** Reads what the states of `keys` need from storage (four queries) and computes them. */
export async function readAssetStates(project: Project, storage: Storage, keys: readonly string[], now = new Date()): Promise<AssetState[]> {
  const { graph } = project;
  const sources = keys.filter((k) => graph.spec(k).source);
  const [latest, failures, observations, checkResults] = await Promise.all([
    storage.latestMaterializations(keys),
    storage.latestStepFailures(keys),
    storage.latestObservations(sources),
    storage.latestCheckResults(keys),
  ]);
  const byAsset = groupBy(latest, (m) => m.assetKey);
  const observedBy = groupBy(observations, (o) => o.assetKey);
  const checksBy = groupBy(checkResults, (c) => c.assetKey);
  const failureOf = new Map(failures.map((f) => [partitionId(f.assetKey, f.partition), f]));
  return keys.map((key) => assetState(project, key, byAsset.get(key) ?? [], failureOf, observedBy.get(key) ?? [], checksBy.get(key), now));
}

function assetState(
  project: Project,
  key: string,
  mine: readonly MaterializationRecord[],
  failureOf: ReadonlyMap<string, StepFailureRecord>,
  observed: readonly ObservationRecord[],
  checkResults: readonly CheckResultRecord[] | undefined,
  now: Date,
): AssetState {
  const spec = project.graph.spec(key);
  const codeVersion = project.codeVersions.get(key) ?? null;
  const newest = mine.reduce<MaterializationRecord | undefined>((a, m) => (a === undefined || m.timestamp > a.timestamp ? m : a), undefined);
  const base = { key, lastMaterializedAt: newest?.timestamp ?? null, runId: newest?.runId ?? null, codeVersion, checks: checkOutcome(checkResults) };
  if (spec.source) return sourceState(spec.partitions?.keys(now) ?? null, observed, base);
  if (!spec.partitions) {
    const m = mine.find((x) => x.partition === null);
    const state = lastAttemptFailed(m, failureOf.get(key)) ? 'failed' : !m ? 'missing' : m.codeVersion !== codeVersion ? 'code changed' : 'materialized';
    return { ...base, state, rowCount: m?.rowCount ?? null, partitions: null };
  }
  const all = spec.partitions.keys(now);
  const done = new Map(mine.map((m) => [m.partition, m]));
  const failed = all.filter((p) => lastAttemptFailed(done.get(p), failureOf.get(partitionId(key, p))));
  const failedSet = new Set(failed);
  const materialized = all.filter((p) => done.has(p) && !failedSet.has(p)).length;
  const missing = new Set(all.filter((p) => !done.has(p) && !failedSet.has(p)));
  const state = failed.length > 0 ? 'failed' : missing.size === 0 ? 'complete' : materialized === 0 ? 'missing' : 'partial';
  const rowCount = mine.every((m) => m.rowCount === null) ? null : mine.reduce((sum, m) => sum + (m.rowCount ?? 0), 0);
  return {
    ...base,
    state,
    rowCount,
    partitions: { total: all.length, materialized, missing: missing.size, failed: failed.length, missingRanges: toRanges(all, missing), failedPartitions: failed },
  };
}

/** The latest outcome per check (a check fails when its latest result failed on any partition). */
function checkOutcome(results: readonly CheckResultRecord[] | undefined): AssetState['checks'] {
  if (!results || results.length === 0) return null;
  const byCheck = groupBy(results, (r) => r.checkName);
  let failed = 0;
  let warned = 0;
  for (const list of byCheck.values()) {
    const bad = list.find((r) => !r.passed);
    if (bad?.severity === 'error') failed++;
    else if (bad) warned++;
  }
  return { total: byCheck.size, failed, warned };
}

/** A source asset: observed partitions instead of materialized ones. */
function sourceState(all: readonly string[] | null, observed: readonly ObservationRecord[], base: Omit<AssetState, 'state' | 'rowCount' | 'partitions'>): AssetState {
  const lastObservedAt = observed.reduce<number | null>((t, o) => (t === null || o.timestamp > t ? o.timestamp : t), null);
  const common = { ...base, lastMaterializedAt: lastObservedAt, runId: null, rowCount: null };
  if (all === null) return { ...common, state: observed.length > 0 ? 'observed' : 'not observed', partitions: null };
  const seen = new Set(observed.map((o) => o.partition));
  const missing = new Set(all.filter((p) => !seen.has(p)));
  const state = observed.length === 0 ? 'not observed' : missing.size === 0 ? 'observed' : 'partial';
  return {
    ...common,
    state,
    partitions: { total: all.length, materialized: all.length - missing.size, missing: missing.size, failed: 0, missingRanges: toRanges(all, missing), failedPartitions: [] },
  };
}
