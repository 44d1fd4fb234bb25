/**
 * Whether an asset with a freshness policy is fresh or overdue at a given clock, computed from
 * its stored materializations only (pure: `assets status`, the UI and the daemon all call it).
 *
 * What the asset's data is "as of" (its *data time*) depends on its partitioning:
 * - unpartitioned: when it was last materialized;
 * - time-window partitions: the end of the newest materialized partition (the one whose window
 *   ends last, whenever it was written). Missing partitions older than it do not count: they are
 *   `assets status`'s MISSING ranges, a backfill's business, not lateness;
 * - static partitions: when any existing partition was last materialized.
 *
 * Only partitions that exist at `now` count. The lag is `now − data time`; the asset is overdue
 * when the lag is more than the policy's `maxLagMs` (a lag exactly equal to it is still fresh),
 * and when it was never materialized at all (lag unknown: `null`).
 */
import type { FreshnessPolicy } from '../definitions/freshness-policy.ts';
import type { PartitionsDefinition } from '../partitions/partitions-definition.ts';

/** A stored materialization as freshness reads it. */
export interface MaterializedPartition {
  readonly partition: string | null;
  /** When it was recorded (epoch ms). */
  readonly timestamp: number;
}

/** The freshness of one asset at one clock. */
export interface AssetFreshness {
  readonly status: 'fresh' | 'overdue';
  readonly maxLagMs: number;
  /** `now − data time`; `null` when the asset was never materialized. */
  readonly lagMs: number | null;
  /** When the data the lag is measured on was materialized (epoch ms); `null`: never. */
  readonly lastMaterializedAt: number | null;
  /** The newest partition (see the file's comment); `null` for an unpartitioned or never materialized asset. */
  readonly partition: string | null;
  /** The instant the data is as of (epoch ms); `null`: never materialized. */
  readonly dataTime: number | null;
  /** When the asset became, or will become, overdue: `dataTime + maxLagMs`; `null`: never materialized. */
  readonly overdueAt: number | null;
}

/**
 * The freshness of an asset whose materializations (latest per partition, or more) are `stored`.
 *
 * @example
 * assetFreshness({ maxLagMs: 26 * 3_600_000 }, daily({ start: '2025-01-01' }), latest, new Date());
 */
export function assetFreshness(
  policy: FreshnessPolicy,
  partitions: PartitionsDefinition | undefined,
  stored: readonly MaterializedPartition[],
  now: Date,
): AssetFreshness {
  const newest = newestData(partitions, stored, now);
  if (newest === undefined) {
    return { status: 'overdue', maxLagMs: policy.maxLagMs, lagMs: null, lastMaterializedAt: null, partition: null, dataTime: null, overdueAt: null };
  }
  const lagMs = now.getTime() - newest.dataTime;
  return {
    status: lagMs > policy.maxLagMs ? 'overdue' : 'fresh',
    maxLagMs: policy.maxLagMs,
    lagMs,
    lastMaterializedAt: newest.timestamp,
    partition: newest.partition,
    dataTime: newest.dataTime,
    overdueAt: newest.dataTime + policy.maxLagMs,
  };
}

interface NewestData {
  readonly partition: string | null;
  readonly timestamp: number;
  readonly dataTime: number;
}

/** The materialization the asset's data time comes from, with that time; `undefined`: none. */
function newestData(partitions: PartitionsDefinition | undefined, stored: readonly MaterializedPartition[], now: Date): NewestData | undefined {
  if (partitions?.type === 'time_window') return newestWindow(partitions, stored, now);
  let best: MaterializedPartition | undefined;
  for (const m of stored) {
    const counts = partitions === undefined ? m.partition === null : m.partition !== null && partitions.has(m.partition, now);
    if (counts && (best === undefined || m.timestamp > best.timestamp)) best = m;
  }
  return best === undefined ? undefined : { partition: best.partition, timestamp: best.timestamp, dataTime: best.timestamp };
}

/**
 * The newest existing time-window partition among `stored`. Time-window keys are zero-padded
 * local wall-clock times (`2025-03-09`, `2025-03-09-14:00`), so their text order is their window
 * order: the greatest key that exists is the newest, found without parsing every key (a year of
 * hourly partitions is 8,760 of them).
 */
function newestWindow(partitions: PartitionsDefinition, stored: readonly MaterializedPartition[], now: Date): NewestData | undefined {
  let candidates = stored.filter((m): m is MaterializedPartition & { partition: string } => m.partition !== null);
  while (candidates.length > 0) {
    let best = candidates[0] as MaterializedPartition & { partition: string };
    for (const m of candidates) if (m.partition > best.partition) best = m;
    const end = partitions.has(best.partition, now) ? partitions.window(best.partition)?.end.getTime() : undefined;
    if (end !== undefined) return { partition: best.partition, timestamp: best.timestamp, dataTime: end };
    // Out of the definition now (its end moved, a future key): the next greatest, then.
    const gone = best.partition;
    candidates = candidates.filter((m) => m.partition !== gone);
  }
  return undefined;
}
