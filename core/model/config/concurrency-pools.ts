/**
 * Concurrency pools: which pools a run holds a slot of (those of its assets), how many slots a
 * pool has, and which pool names a project knows. The daemon's in-process launcher and the
 * workers' claims (counted in storage, across hosts) use the same answers.
 */

import type { AssetGraph } from '../graph/asset-graph.ts';
import { DEFAULT_POOL, type DaemonSettings } from './daemon-settings.ts';

/** The warehouse a project writes: the default pool's slots depend on it. */
export type WarehouseKind = 'duckdb' | 'postgres';

/** The warehouse of a project's configuration. */
export function warehouseKind(config: { readonly warehouseUrl?: string | undefined }): WarehouseKind {
  return config.warehouseUrl === undefined ? 'duckdb' : 'postgres';
}

/**
 * Slots of `pool`: as configured in `"daemon": {"pools": …}`; else the default pool on a
 * Postgres warehouse has no limit (many writers share it), and any other pool, the default pool
 * on DuckDB included (one writer to the file), has one.
 *
 * @example
 * poolLimit(settings, 'warehouse', 'postgres'); // Infinity unless "pools": {"warehouse": N}
 */
export function poolLimit(settings: DaemonSettings, pool: string, warehouse: WarehouseKind): number {
  const configured = settings.pools[pool];
  if (configured !== undefined) return configured;
  return pool === DEFAULT_POOL && warehouse === 'postgres' ? Infinity : 1;
}

/** The pools a run of `keys` holds a slot of: each asset's `pool`, or the default pool; sorted, each once. */
export function runPools(graph: AssetGraph, keys: Iterable<string>): string[] {
  return [...new Set([...keys].map((key) => graph.spec(key).pool ?? DEFAULT_POOL))].sort();
}

/** Every pool name a project knows: configured, named by an asset, and the default pool. */
export function knownPools(graph: AssetGraph, settings: DaemonSettings): Set<string> {
  return new Set([DEFAULT_POOL, ...Object.keys(settings.pools), ...graph.keys.flatMap((key) => graph.spec(key).pool ?? [])]);
}
