/**
 * What staleness reports: every stale asset partition with the reasons it is stale. Built by
 * {@link ./compute-staleness.ts}; read by `assets status --stale`, `materialize --stale-only`
 * and the daemon's automation conditions.
 */

/** Why one asset partition is stale. `upstream` names an asset partition, `key@partition` (or `key`). */
export type StaleReason =
  /** Never materialized. */
  | { readonly kind: 'missing' }
  /** Its latest attempt failed (after its latest materialization, if any). */
  | { readonly kind: 'failed'; readonly runId: string; readonly message: string; readonly at: number }
  /** The asset's code version differs from the one its latest materialization recorded. */
  | { readonly kind: 'code_changed'; readonly recorded: string; readonly current: string }
  /** The asset's dependencies differ from the ones its latest materialization was built with. */
  | { readonly kind: 'dependencies_changed'; readonly added: readonly string[]; readonly removed: readonly string[] }
  /** An upstream partition it reads has another data version than the one it consumed (`null`: it read none). */
  | { readonly kind: 'upstream_changed'; readonly upstream: string; readonly consumed: string | null; readonly current: string }
  /** An upstream partition it reads is itself stale (or missing), so it will change when rebuilt. */
  | { readonly kind: 'upstream_stale'; readonly upstream: string };

/** The order reasons are listed in, most direct first. */
export const REASON_RANK: Readonly<Record<StaleReason['kind'], number>> = Object.freeze({
  missing: 0,
  failed: 1,
  code_changed: 2,
  dependencies_changed: 3,
  upstream_changed: 4,
  upstream_stale: 5,
});

/** One stale asset partition (`partition` is `null` for an unpartitioned asset). */
export interface StalePartition {
  readonly key: string;
  readonly partition: string | null;
  /** At least one reason; the first is the most direct (missing, failed, code, deps, upstream). */
  readonly reasons: readonly StaleReason[];
}

/** The stale partitions of the assets asked about, in topological order of assets, then partition order. */
export interface StalenessReport {
  readonly stale: readonly StalePartition[];
  /** The clock the report was computed at (which time-window partitions exist). */
  readonly now: Date;
  /** Reasons of one asset partition, or `undefined` when it is fresh (or was not asked about). */
  reasonsOf(key: string, partition: string | null): readonly StaleReason[] | undefined;
}
