/**
 * Sets of asset partitions as the daemon passes them around: asset key → partitions (`null` for
 * an unpartitioned asset), and their compact form in tick decisions.
 */
import { partitionId } from '../../model/definitions/asset-key.ts';
import type { TickTarget } from '../../../storage/daemon-tick-store.ts';

/** Asset key → the partitions requested (`[null]` for an unpartitioned asset), in request order. */
export type AssetPartitions = ReadonlyMap<string, readonly (string | null)[]>;

/** How many partitions of one asset a decision lists (the rest are counted). */
const LISTED = 20;

/** One decision target: the asset, its first partitions, and how many there are. */
export function tickTarget(key: string, partitions: readonly (string | null)[]): TickTarget {
  const keys = partitions.filter((p): p is string => p !== null);
  return { key, partitions: keys.length === 0 ? null : keys.slice(0, LISTED), count: Math.max(1, keys.length) };
}

/** The decision targets of a set of asset partitions. */
export function tickTargets(set: AssetPartitions): TickTarget[] {
  return [...set].map(([key, partitions]) => tickTarget(key, partitions));
}

/** Every `key@partition` of a set. */
export function partitionIds(set: AssetPartitions): string[] {
  return [...set].flatMap(([key, partitions]) => partitions.map((p) => partitionId(key, p)));
}

/** Adds `partition` of `key` to a mutable set. */
export function addPartition(set: Map<string, (string | null)[]>, key: string, partition: string | null): void {
  const list = set.get(key);
  if (list) list.push(partition);
  else set.set(key, [partition]);
}

/** `staging/orders@2025-03-01`, or `staging/orders@2025-03-01 +364` for many. */
export function describeTargets(targets: readonly TickTarget[]): string {
  return targets.map((t) => (t.partitions === null ? t.key : `${t.key}@${t.partitions[0]}${t.count > 1 ? ` +${t.count - 1}` : ''}`)).join(', ');
}

/** Splits a request into the partitions free to request and those already in flight, by run. */
export function splitInFlight(
  partitions: AssetPartitions,
  inFlight: ReadonlyMap<string, string>,
): { free: AssetPartitions; busy: Map<string, AssetPartitions> } {
  const free = new Map<string, (string | null)[]>();
  const busy = new Map<string, Map<string, (string | null)[]>>();
  for (const [key, list] of partitions) {
    for (const partition of list) {
      const runId = inFlight.get(partitionId(key, partition));
      const target = runId === undefined ? free : (busy.get(runId) ?? busy.set(runId, new Map()).get(runId)!);
      const entries = target.get(key);
      if (entries) entries.push(partition);
      else target.set(key, [partition]);
    }
  }
  return { free, busy };
}
