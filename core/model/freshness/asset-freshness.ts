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
  let best: NewestData | undefined;
  for (const m of stored) {
    const dataTime = dataTimeOf(partitions, m, now);
    if (dataTime === undefined) continue;
    if (best === undefined || dataTime > best.dataTime || (dataTime === best.dataTime && m.timestamp > best.timestamp)) {
      best = { partition: m.partition, timestamp: m.timestamp, dataTime };
    }
  }
  return best;
}

/** What one materialization says the data is as of; `undefined` when it does not count. */
function dataTimeOf(partitions: PartitionsDefinition | undefined, m: MaterializedPartition, now: Date): number | undefined {
  if (partitions === undefined) return m.partition === null ? m.timestamp : undefined;
  if (m.partition === null || !partitions.has(m.partition, now)) return undefined;
  if (partitions.type === 'static') return m.timestamp;
  return partitions.window(m.partition)?.end.getTime();
}
