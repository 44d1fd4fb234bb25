import { groupBy } from '../collections/group-by.ts';
import { toRanges } from '../partitions/index.ts';
import type { Project } from '../project.ts';
import type { StalePartition, StaleReason, StalenessReport } from '../staleness/stale-partition.ts';
import type { CheckResultRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import type { ObservationRecord } from '../../../storage/staleness-store.ts';
import { GONE_DATA_VERSION } from '../definitions/source-asset.ts';
import { incrementalCounts, type IncrementalCounts } from '../definitions/incremental-config.ts';
import { snapshotCounts, type SnapshotCounts } from '../definitions/snapshot-config.ts';
import { recordedSchemaChange, type SchemaDiff } from '../schema/table-schema.ts';
import { assetFreshness, type AssetFreshness } from '../freshness/asset-freshness.ts';
import { loadedAtTimes } from '../freshness/source-freshness.ts';

/** Partition counts of a partitioned asset (observed partitions for source assets). */
export interface PartitionCounts {
  readonly total: number;
  readonly materialized: number;
  readonly missing: number;
  readonly failed: number;
  readonly missingRanges: readonly { from: string; to: string; count: number }[];
  readonly failedPartitions: readonly string[];
}

/** The health of one asset partition, from its staleness reasons: the words of the UI's partition bar. */
export type PartitionHealth = 'fresh' | 'stale' | 'missing' | 'failed';

/** How stale an asset is: its stale partitions (1 for a stale unpartitioned asset), counted by first reason. */
export interface StaleSummary {
  readonly partitions: number;
  readonly byReason: Readonly<Partial<Record<StaleReason['kind'], number>>>;
}

/**
 * The state of one asset with the same rules and words as `assets status --json`: `fresh`,
 * `stale`, `partial` (some partitions missing), `missing`, `failed`; `observed`, `partial`,
 * `not observed` for source assets. It is derived from the same staleness report as
 * `assets status --stale`, so the two never disagree: an asset is `fresh` exactly when the
 * report has none of its partitions.
 */
export interface AssetState {
  readonly key: string;
  readonly state: string;
  readonly lastMaterializedAt: number | null;
  readonly runId: string | null;
  readonly rowCount: number | null;
  readonly codeVersion: string | null;
  /**
   * Latest outcome of the asset's checks: how many have results, failed (error severity),
   * warned, and could not run (`errored`, whatever their severity).
   */
  readonly checks: { readonly total: number; readonly failed: number; readonly warned: number; readonly errored: number } | null;
  readonly partitions: PartitionCounts | null;
  /** `null` for source assets, which are observed and never stale. */
  readonly staleness: StaleSummary | null;
  /** Incremental assets: what the latest build did (rows inserted, updated, deleted; the watermark it read). */
  readonly incremental?: IncrementalCounts;
  /** Snapshots: what the latest write did (versions inserted and closed). */
  readonly snapshot?: SnapshotCounts;
  /** The columns the latest materialization added, removed or retyped since the one before it (absent: none changed). */
  readonly schemaChange?: SchemaDiff;
  /** Assets with a freshness policy: fresh or overdue at the report's clock (see core/model/freshness). */
  readonly freshness?: AssetFreshness;
}

/**
 * The health of a partition from its reasons in a staleness report (`undefined`: fresh): failed
 * when its last attempt failed, missing when never built, else stale.
 */
export function partitionHealth(reasons: readonly StaleReason[] | undefined): PartitionHealth {
  if (reasons === undefined) return 'fresh';
  if (reasons.some((r) => r.kind === 'failed')) return 'failed';
  return reasons.some((r) => r.kind === 'missing') ? 'missing' : 'stale';
}

/**
 * Reads what the states of `keys` need from storage and computes them against `report`, a
 * staleness report of the same storage that covers every materializable asset of `keys`
 * (`computeStaleness` or `findStale` with those keys).
 */
export async function readAssetStates(project: Project, storage: Storage, keys: readonly string[], report: StalenessReport): Promise<AssetState[]> {
  const { graph } = project;
  const sources = keys.filter((k) => graph.spec(k).source);
  const [latest, observations, checkResults] = await Promise.all([
    storage.latestMaterializations(keys),
    storage.latestObservations(sources),
    storage.latestCheckResults(keys),
  ]);
  const byAsset = groupBy(latest, (m) => m.assetKey);
  const observedBy = groupBy(observations, (o) => o.assetKey);
  const checksBy = groupBy(checkResults, (c) => c.assetKey);
  const staleBy = groupBy(report.stale, (s) => s.key);
  return keys.map((key) => {
    const mine = byAsset.get(key) ?? [];
    const newest = mine.reduce<MaterializationRecord | undefined>((a, m) => (a === undefined || m.timestamp > a.timestamp ? m : a), undefined);
    const spec = graph.spec(key);
    const policy = spec.freshnessPolicy;
    // A source's data time is the newest loaded-at value its latest observation found (dbt's loaded_at_field).
    const dataTimes = spec.source ? loadedAtTimes((observedBy.get(key) ?? []).filter((o) => o.dataVersion !== GONE_DATA_VERSION)) : mine;
    const base = {
      key,
      lastMaterializedAt: newest?.timestamp ?? null,
      runId: newest?.runId ?? null,
      codeVersion: project.codeVersions.get(key) ?? null,
      checks: checkOutcome(checksBy.get(key)),
      ...writeCounts(newest?.metadata),
      ...schemaChangeOf(newest?.metadata),
      ...(policy === undefined ? {} : { freshness: assetFreshness(policy, spec.partitions, dataTimes, report.now) }),
    };
    if (spec.source) return sourceState(spec.partitions?.keys(report.now) ?? null, observedBy.get(key) ?? [], base);
    return materializedState(spec.partitions?.keys(report.now) ?? null, mine, staleBy.get(key) ?? [], base);
  });
}

/** A materialized asset: every count and the state come from its partitions' staleness reasons. */
function materializedState(
  all: readonly string[] | null,
  mine: readonly MaterializationRecord[],
  stale: readonly StalePartition[],
  base: Omit<AssetState, 'state' | 'rowCount' | 'partitions' | 'staleness'>,
): AssetState {
  const health = new Map(stale.map((s) => [s.partition, partitionHealth(s.reasons)]));
  const failed = [...health].filter(([, h]) => h === 'failed').map(([p]) => p);
  const missing = new Set([...health].filter(([, h]) => h === 'missing').map(([p]) => p));
  const total = all?.length ?? 1;
  const materialized = total - failed.length - missing.size;
  const state = failed.length > 0 ? 'failed' : materialized === 0 ? 'missing' : missing.size > 0 ? 'partial' : stale.length > 0 ? 'stale' : 'fresh';
  const byReason: Partial<Record<StaleReason['kind'], number>> = {};
  for (const s of stale) {
    const kind = s.reasons[0]?.kind;
    if (kind !== undefined) byReason[kind] = (byReason[kind] ?? 0) + 1;
  }
  const summary = { partitions: stale.length, byReason };
  if (all === null) return { ...base, state, rowCount: mine.find((m) => m.partition === null)?.rowCount ?? null, partitions: null, staleness: summary };
  const rowCount = mine.every((m) => m.rowCount === null) ? null : mine.reduce((sum, m) => sum + (m.rowCount ?? 0), 0);
  const failedPartitions = failed.filter((p): p is string => p !== null);
  return {
    ...base,
    state,
    rowCount,
    partitions: { total, materialized, missing: missing.size, failed: failed.length, missingRanges: toRanges(all, missing as Set<string>), failedPartitions },
    staleness: summary,
  };
}

/**
 * The latest outcome per check: it could not run when its latest result on any partition is an
 * error, else it fails when its latest result failed on any partition.
 */
function checkOutcome(results: readonly CheckResultRecord[] | undefined): AssetState['checks'] {
  if (!results || results.length === 0) return null;
  const byCheck = groupBy(results, (r) => r.checkName);
  let failed = 0;
  let warned = 0;
  let errored = 0;
  for (const list of byCheck.values()) {
    const bad = list.find((r) => !r.passed);
    if (list.some((r) => r.error !== undefined)) errored++;
    else if (bad?.severity === 'error') failed++;
    else if (bad) warned++;
  }
  return { total: byCheck.size, failed, warned, errored };
}

/** A source asset: observed partitions instead of materialized ones (a gone partition is not observed). */
function sourceState(
  all: readonly string[] | null,
  observations: readonly ObservationRecord[],
  base: Omit<AssetState, 'state' | 'rowCount' | 'partitions' | 'staleness'>,
): AssetState {
  const lastObservedAt = observations.reduce<number | null>((t, o) => (t === null || o.timestamp > t ? o.timestamp : t), null);
  const observed = observations.filter((o) => o.dataVersion !== GONE_DATA_VERSION);
  const common = { ...base, lastMaterializedAt: lastObservedAt, runId: null, rowCount: null, staleness: null };
  if (all === null) return { ...common, state: observed.length > 0 ? 'observed' : 'not observed', partitions: null };
  const seen = new Set(observed.map((o) => o.partition));
  const missing = new Set(all.filter((p) => !seen.has(p)));
  const state = observed.length === 0 ? 'not observed' : missing.size === 0 ? 'observed' : 'partial';
  return {
    ...common,
    state,
    partitions: {
      total: all.length,
      materialized: all.length - missing.size,
      missing: missing.size,
      failed: 0,
      missingRanges: toRanges(all, missing),
      failedPartitions: [],
    },
  };
}

/** The latest materialization's schema change, as a field to spread. */
function schemaChangeOf(metadata: Readonly<Record<string, unknown>> | undefined): { schemaChange?: SchemaDiff } {
  const schemaChange = recordedSchemaChange(metadata);
  return schemaChange === undefined ? {} : { schemaChange };
}

/** The `incremental` or `snapshot` counts of a latest materialization's metadata, as fields to spread. */
function writeCounts(metadata: Readonly<Record<string, unknown>> | undefined): { incremental?: IncrementalCounts; snapshot?: SnapshotCounts } {
  const incremental = incrementalCounts(metadata);
  if (incremental) return { incremental };
  const snapshot = snapshotCounts(metadata);
  return snapshot ? { snapshot } : {};
}
