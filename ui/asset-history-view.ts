import { GONE_DATA_VERSION } from '../core/model/definitions/source-asset.ts';
import { toRanges } from '../core/model/partitions/index.ts';
import type { Project } from '../core/model/project.ts';
import { computeStaleness } from '../core/model/staleness/compute-staleness.ts';
import { partitionHealth, type PartitionHealth } from '../core/model/status/asset-states.ts';
import type { CheckResultRecord, MaterializationRecord, RunMaterializations, Storage } from '../storage/storage.ts';

/** `GET /api/history/*key`: what the asset page charts and lists, newest first, one page of each list. */
export interface AssetHistory {
  readonly key: string;
  readonly limit: number;
  readonly offset: number;
  /** One entry per run that built the asset: partitions written and rows summed (the chart). */
  readonly runs: readonly RunMaterializations[];
  readonly materializations: readonly MaterializationRecord[];
  /** Check results with their failing-row samples. */
  readonly checks: readonly CheckResultRecord[];
}

/** `GET /api/partitions/*key`: one cell per partition, in partition order. */
export interface AssetPartitions {
  readonly key: string;
  /** `null` for an unpartitioned asset (then `cells` is empty). */
  readonly partitions: string | null;
  readonly cells: readonly {
    readonly partition: string;
    readonly state: PartitionHealth;
    readonly rowCount: number | null;
    readonly materializedAt: number | null;
  }[];
  readonly counts: Readonly<Record<PartitionHealth, number>>;
  /** Runs of consecutive missing partitions, e.g. `{ from: '2025-03-01', to: '2025-03-31', count: 31 }`. */
  readonly missingRanges: readonly { readonly from: string; readonly to: string; readonly count: number }[];
}

/** Runs, materializations and check results of `key` (which must exist), newest first: `limit` of each after skipping `offset`. */
export async function assetHistory(storage: Storage, key: string, page: { readonly limit: number; readonly offset: number }): Promise<AssetHistory> {
  const [runs, materializations, checks] = await Promise.all([
    storage.materializationsByRun(key, page),
    storage.materializationHistory(key, page),
    storage.checkHistory(key, page),
  ]);
  return { key, limit: page.limit, offset: page.offset, runs, materializations, checks };
}

/**
 * Every current partition of `key` with its state: failed (last attempt failed), missing,
 * stale or fresh, from the staleness report that `assets status` and `--stale` use. Sources are observed,
 * not built: their observed partitions are fresh, the rest missing.
 */
export async function assetPartitions(project: Project, storage: Storage, key: string, now: Date): Promise<AssetPartitions> {
  const spec = project.graph.spec(key);
  const keys = spec.partitions?.keys(now) ?? [];
  const empty = { fresh: 0, stale: 0, missing: 0, failed: 0 };
  if (!spec.partitions) return { key, partitions: null, cells: [], counts: empty, missingRanges: [] };
  const [latest, observations, report] = await Promise.all([
    storage.latestMaterializations([key]),
    spec.source ? storage.latestObservations([key]) : [],
    spec.source ? undefined : computeStaleness({ project, storage, keys: [key], now }),
  ]);
  const built = new Map(latest.map((m) => [m.partition, m]));
  const observed = new Set(observations.filter((o) => o.dataVersion !== GONE_DATA_VERSION).map((o) => o.partition));
  const cells = keys.map((partition) => {
    const m = built.get(partition);
    const state: PartitionHealth = report === undefined ? (observed.has(partition) ? 'fresh' : 'missing') : partitionHealth(report.reasonsOf(key, partition));
    return { partition, state, rowCount: m?.rowCount ?? null, materializedAt: m?.timestamp ?? null };
  });
  const counts = { ...empty };
  for (const cell of cells) counts[cell.state]++;
  const missingRanges = toRanges(keys, new Set(cells.filter((c) => c.state === 'missing').map((c) => c.partition)));
  return { key, partitions: spec.partitions.toString(), cells, counts, missingRanges };
}
