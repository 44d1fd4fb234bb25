/**
 * Walks column lineage across assets: where one column's values come from (upstream, hop by hop
 * through each asset's traced sources) and which columns are made from it (downstream), with
 * the assets that use it only to join, filter, group or sort.
 */
import { closestKeys } from '../collections/key-compare.ts';
import { NotFoundError } from '../errors.ts';
import type { AssetColumnLineage, DirectKind, IndirectKind } from './column-lineage.ts';

/** One column reached by a walk. */
export interface ColumnHop {
  readonly asset: string;
  readonly column: string;
  readonly kind: DirectKind;
  /** 1 for a direct source or user of the start column. */
  readonly depth: number;
  /** The column it was reached from, `asset.column`. */
  readonly of: string;
}

/** An asset that uses a walked column without copying its values (downstream only). */
export interface IndirectHop {
  readonly asset: string;
  readonly kind: IndirectKind;
  readonly depth: number;
  readonly of: string;
}

/** A column whose sources a walk could not follow, and why. */
export interface UnknownColumn {
  readonly asset: string;
  readonly column: string;
  readonly reason: string;
}

/** The columns of `key` as traced, `null` when not known. */
export function columnNames(lineage: ReadonlyMap<string, AssetColumnLineage>, key: string): string[] | null {
  return lineage.get(key)?.columns?.map((c) => c.name) ?? null;
}

/**
 * The column as the asset spells it; a `NotFoundError` with "did you mean" when the asset's
 * columns are known and it has no such column.
 */
export function checkedColumn(lineage: ReadonlyMap<string, AssetColumnLineage>, key: string, column: string): string {
  const names = columnNames(lineage, key);
  if (names === null) return column;
  const found = names.find((n) => n === column) ?? names.find((n) => n.toLowerCase() === column.toLowerCase());
  if (found !== undefined) return found;
  const hint = closestKeys(column, names);
  const suggestion = hint.length > 0 ? ` (did you mean ${hint.map((h) => `"${h}"`).join(', ')}?)` : ` (its columns: ${names.join(', ')})`;
  throw new NotFoundError(`asset "${key}" has no column "${column}"${suggestion}`, { assetKey: key, argument: '--column' });
}

/**
 * The upstream columns of `key.column`, breadth first (each column once, at its smallest depth,
 * at most `depth` hops), and the columns on the way whose sources are unknown.
 *
 * @example
 * upstreamColumns(lineage, 'marts/sales', 'total', Infinity);
 * // { hops: [{ asset: 'staging/orders', column: 'amount', kind: 'aggregation', depth: 1, of: 'marts/sales.total' }], unknown: [...] }
 */
export function upstreamColumns(
  lineage: ReadonlyMap<string, AssetColumnLineage>,
  key: string,
  column: string,
  depth: number,
): { hops: ColumnHop[]; unknown: UnknownColumn[] } {
  const hops: ColumnHop[] = [];
  const unknown: UnknownColumn[] = [];
  const seen = new Set([`${key}.${column}`]);
  let frontier = [{ asset: key, column }];
  for (let level = 1; frontier.length > 0; level++) {
    const next: { asset: string; column: string }[] = [];
    for (const at of frontier) {
      const asset = lineage.get(at.asset);
      const traced = asset?.columns?.find((c) => c.name === at.column) ?? asset?.columns?.find((c) => c.name.toLowerCase() === at.column.toLowerCase());
      if (traced === undefined) {
        unknown.push({
          asset: at.asset,
          column: at.column,
          reason: asset?.unknown ?? (asset?.columns ? `${at.asset} has no column "${at.column}"` : 'its columns are not known'),
        });
        continue;
      }
      if (traced.unknown !== undefined) unknown.push({ asset: at.asset, column: at.column, reason: traced.unknown });
      if (level > depth) continue;
      for (const source of traced.sources) {
        const id = `${source.asset}.${source.column}`;
        if (seen.has(id)) continue;
        seen.add(id);
        hops.push({ asset: source.asset, column: source.column, kind: source.kind, depth: level, of: `${at.asset}.${at.column}` });
        next.push(source);
      }
    }
    frontier = next;
  }
  return { hops, unknown };
}

/**
 * The columns made from `key.column` downstream, breadth first (each once, at most `depth`
 * hops), and the assets that use one of them indirectly.
 */
export function downstreamColumns(
  lineage: ReadonlyMap<string, AssetColumnLineage>,
  key: string,
  column: string,
  depth: number,
): { hops: ColumnHop[]; indirect: IndirectHop[] } {
  // Who reads each column: `asset.column` → the columns made from it.
  const users = new Map<string, { asset: string; column: string; kind: DirectKind }[]>();
  const indirectUsers = new Map<string, { asset: string; kind: IndirectKind }[]>();
  for (const asset of lineage.values()) {
    for (const c of asset.columns ?? []) {
      for (const s of c.sources) push(users, `${s.asset}.${s.column}`.toLowerCase(), { asset: asset.key, column: c.name, kind: s.kind });
    }
    for (const s of asset.indirect) push(indirectUsers, `${s.asset}.${s.column}`.toLowerCase(), { asset: asset.key, kind: s.kind });
  }
  const hops: ColumnHop[] = [];
  const indirect: IndirectHop[] = [];
  const seen = new Set([`${key}.${column}`.toLowerCase()]);
  const seenIndirect = new Set<string>();
  let frontier = [`${key}.${column}`];
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    const next: string[] = [];
    for (const of of frontier) {
      for (const user of users.get(of.toLowerCase()) ?? []) {
        const id = `${user.asset}.${user.column}`;
        if (seen.has(id.toLowerCase())) continue;
        seen.add(id.toLowerCase());
        hops.push({ ...user, depth: level, of });
        next.push(id);
      }
      for (const user of indirectUsers.get(of.toLowerCase()) ?? []) {
        const id = `${user.asset}\u0000${user.kind}`;
        if (seenIndirect.has(id)) continue;
        seenIndirect.add(id);
        indirect.push({ ...user, depth: level, of });
      }
    }
    frontier = next;
  }
  return { hops, indirect };
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
