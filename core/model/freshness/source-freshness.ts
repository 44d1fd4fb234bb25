/**
 * Freshness of a source asset with a freshness policy (a dbt source with `loaded_at_field`): its
 * data time is not when it was observed but the newest loaded-at value the latest observation
 * found in the data, recorded in the observation's metadata.
 */
import type { MaterializedPartition } from './asset-freshness.ts';

/** The observation metadata field holding the newest loaded-at value (ISO text, or `null` for a table without rows). */
export const LOADED_AT_METADATA = 'loaded_at';

/** A stored observation as source freshness reads it. */
export interface ObservedPartition {
  readonly partition: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * The observations of a source as the "materializations" {@link assetFreshness} measures: one per
 * observed partition whose data has a loaded-at value, its timestamp that value (so the data
 * time is the newest `loaded_at_field`). A table without rows, or gone, has none: no data.
 *
 * @example
 * assetFreshness(policy, spec.partitions, loadedAtTimes(latestObservations), now);
 */
export function loadedAtTimes(observations: readonly ObservedPartition[]): MaterializedPartition[] {
  const out: MaterializedPartition[] = [];
  for (const o of observations) {
    const value = o.metadata[LOADED_AT_METADATA];
    const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (!Number.isNaN(time)) out.push({ partition: o.partition, timestamp: time });
  }
  return out;
}
