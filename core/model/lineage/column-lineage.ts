/**
 * Column-level lineage: for each output column of an asset, the upstream `(asset, column)` pairs
 * its values come from and how (OpenLineage's DIRECT subtypes), plus the upstream columns that
 * only decide which rows there are or how they are ordered (INDIRECT: joins, filters, grouping,
 * sorting, window partitions). Where a column cannot be traced it is *unknown*,
 * with the reason; nothing is guessed.
 */
import { createHash } from 'node:crypto';

/** How an output column's values come from an upstream column: copied, computed from it, or aggregated over it. */
export type DirectKind = 'identity' | 'transformation' | 'aggregation';

/** What an upstream column is used for when it feeds no output value. */
export type IndirectKind = 'join' | 'filter' | 'group_by' | 'sort' | 'window';

/** Every direct kind, weakest first: a chain of steps has its strongest kind. */
export const DIRECT_KINDS: readonly DirectKind[] = Object.freeze(['identity', 'transformation', 'aggregation']);

/** Every indirect kind. */
export const INDIRECT_KINDS: readonly IndirectKind[] = Object.freeze(['join', 'filter', 'group_by', 'sort', 'window']);

/** An upstream column an output column's values come from. */
export interface DirectSource {
  readonly asset: string;
  readonly column: string;
  readonly kind: DirectKind;
}

/** An upstream column the asset uses without copying its values. */
export interface IndirectSource {
  readonly asset: string;
  readonly column: string;
  readonly kind: IndirectKind;
}

/** One output column and where it comes from. */
export interface OutputColumnLineage {
  readonly name: string;
  /** Sorted by asset, column. Empty for a constant. */
  readonly sources: readonly DirectSource[];
  /** Why some of its sources are not known (then `sources` lists only the known ones). */
  readonly unknown?: string;
}

/** The column lineage of one asset. */
export interface AssetColumnLineage {
  readonly key: string;
  /** The output columns in order; `null` when even the column list is unknown (see `unknown`). */
  readonly columns: readonly OutputColumnLineage[] | null;
  /** Sorted by asset, column, kind. */
  readonly indirect: readonly IndirectSource[];
  /** Why the column list, or some indirect use, is not known. */
  readonly unknown?: string;
}

/**
 * The version column lineage is stored under: the definition version (the graph's shape) and
 * every asset's code version, so that editing a query, which leaves the graph as it was, is a
 * new lineage version traced again by the next run.
 *
 * @example
 * await storage.columnLineage(columnLineageVersion(project));
 */
export function columnLineageVersion(project: { readonly definitionVersion: string; readonly codeVersions: ReadonlyMap<string, string> }): string {
  const hash = createHash('sha256').update(project.definitionVersion);
  for (const [key, version] of [...project.codeVersions].sort(([a], [b]) => cmp(a, b))) hash.update(`\n${key}=${version}`);
  return hash.digest('hex').slice(0, 16);
}

/** The stronger of two direct kinds (`identity` < `transformation` < `aggregation`). */
export function strongerKind(a: DirectKind, b: DirectKind): DirectKind {
  return DIRECT_KINDS.indexOf(a) >= DIRECT_KINDS.indexOf(b) ? a : b;
}

/** Sorts sources by asset, column, then kind, dropping exact repeats. */
export function sortSources<T extends { readonly asset: string; readonly column: string; readonly kind: string }>(sources: Iterable<T>): T[] {
  const unique = new Map<string, T>();
  for (const s of sources) unique.set(`${s.asset}\u0000${s.column}\u0000${s.kind}`, s);
  return [...unique.values()].sort((a, b) => cmp(a.asset, b.asset) || cmp(a.column, b.column) || cmp(a.kind, b.kind));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
