/**
 * Snapshots (slowly changing dimensions, type 2): the header of a `materialization: snapshot`
 * SQL asset, and the rule that a snapshot's history is never rebuilt without `--force`.
 *
 * ```sql
 * -- materialization: snapshot
 * -- unique_key: customer_id                  (one or more columns)
 * -- snapshot_strategy: timestamp(updated_at) (or check(col1, col2) / check(all); default check(all))
 * -- invalidate_hard_deletes: true            (default false)
 * select * from raw.customers
 * ```
 *
 * Parsing is pure; writing the history lives in `resources/snapshot-writes.ts`.
 */
import { StrataError } from '../errors.ts';

/** How a snapshot decides that a row changed. */
export type SnapshotStrategy =
  | { readonly type: 'timestamp'; readonly column: string }
  | { readonly type: 'check'; readonly columns: readonly string[] | 'all' };

/** A snapshot's configuration, from its header. */
export interface SnapshotConfig {
  /** The columns identifying a row of the source; unique and never NULL there. */
  readonly uniqueKey: readonly string[];
  readonly strategy: SnapshotStrategy;
  /** Close the current version of a row that is gone from the source. */
  readonly invalidateHardDeletes: boolean;
  /**
   * The names of the columns the snapshot adds: absent for Strata's (`valid_from`, `valid_to`,
   * `is_current`), `dbt` for dbt's (`dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from`,
   * `dbt_valid_to`; a dbt project's snapshots). Only the names and dbt's two extra columns differ.
   */
  readonly columns?: 'dbt';
}

/** The header fields only snapshots read (`unique_key` is shared with other materializations). */
export const SNAPSHOT_HEADER_FIELDS = ['unique_key', 'snapshot_strategy', 'invalidate_hard_deletes'] as const;

/** The columns a snapshot adds to its source's: a source query may not return them. */
export const SNAPSHOT_COLUMNS = ['valid_from', 'valid_to', 'is_current'] as const;

/** The columns a dbt snapshot adds to its source's, in dbt's order (`dbt_valid_to` NULL for the current version). */
export const DBT_SNAPSHOT_COLUMNS = ['dbt_scd_id', 'dbt_updated_at', 'dbt_valid_from', 'dbt_valid_to'] as const;

/** The columns a snapshot of this configuration adds. */
export function snapshotColumns(config: Pick<SnapshotConfig, 'columns'>): readonly string[] {
  return config.columns === 'dbt' ? DBT_SNAPSHOT_COLUMNS : SNAPSHOT_COLUMNS;
}

type SnapshotField = (typeof SNAPSHOT_HEADER_FIELDS)[number];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STRATEGY = /^(timestamp|check)\s*\((.*)\)$/i;

/**
 * Reads the snapshot fields of a SQL header. Returns the configuration of a snapshot (or
 * `undefined` when the asset is not one, or on errors, which go to `fail`). Snapshot-only fields
 * on another materialization, and partitioned snapshots, are errors.
 *
 * @param materialization the header's materialization
 * @param value the first value of a header field, `undefined` when absent
 *
 * @example
 * parseSnapshotHeader('snapshot', (f) => ({ unique_key: 'id' })[f], report) // { uniqueKey: ['id'], strategy: { type: 'check', columns: 'all' }, ... }
 */
export function parseSnapshotHeader(
  materialization: string,
  value: (field: SnapshotField | 'partitioned_by') => string | undefined,
  fail: (code: string, message: string) => void,
): SnapshotConfig | undefined {
  if (materialization !== 'snapshot') {
    for (const field of ['snapshot_strategy', 'invalidate_hard_deletes'] as const) {
      if (value(field) !== undefined) fail('sql_header_invalid', `header field "${field}" needs materialization: snapshot`);
    }
    if ((materialization === 'table' || materialization === 'view') && value('unique_key') !== undefined) {
      fail('sql_header_invalid', `header field "unique_key" does nothing for materialization: ${materialization} (it is for incremental and snapshot)`);
    }
    return undefined;
  }
  let ok = true;
  const problem = (message: string) => {
    ok = false;
    fail('sql_header_invalid', message);
  };
  if (value('partitioned_by') !== undefined) problem('a snapshot keeps the history of a whole table, so it cannot be partitioned: remove partitioned_by');
  const uniqueKey = columnList(value('unique_key') ?? '');
  if (uniqueKey.length === 0) problem('a snapshot needs unique_key: the column(s) identifying a row of the source');
  for (const column of uniqueKey) if (!IDENTIFIER.test(column)) problem(`unique_key: "${column}" is not a column name`);
  const strategy = parseStrategy(value('snapshot_strategy'), problem);
  const invalidate = parseBoolean(value('invalidate_hard_deletes'), problem);
  if (!ok || strategy === undefined) return undefined;
  return Object.freeze({ uniqueKey: Object.freeze(uniqueKey), strategy, invalidateHardDeletes: invalidate });
}

/** `timestamp(updated_at)`, `check(a, b)` or `check(all)`; absent means `check(all)`. */
function parseStrategy(text: string | undefined, problem: (message: string) => void): SnapshotStrategy | undefined {
  if (text === undefined) return Object.freeze({ type: 'check', columns: 'all' });
  const match = STRATEGY.exec(text.trim());
  const unknown = `unknown snapshot_strategy "${text}": use timestamp(column), check(column, ...) or check(all)`;
  if (!match) {
    problem(unknown);
    return undefined;
  }
  const kind = (match[1] ?? '').toLowerCase();
  const columns = columnList(match[2] ?? '');
  const bad = columns.find((c) => !IDENTIFIER.test(c));
  if (bad !== undefined) {
    problem(`snapshot_strategy: "${bad}" is not a column name`);
    return undefined;
  }
  if (kind === 'timestamp') {
    if (columns.length !== 1) {
      problem(`snapshot_strategy timestamp(...) takes exactly one column (the row's updated-at time), not ${columns.length}`);
      return undefined;
    }
    return Object.freeze({ type: 'timestamp', column: columns[0] as string });
  }
  if (columns.length === 0) {
    problem('snapshot_strategy check(...) needs the columns to compare, or check(all)');
    return undefined;
  }
  if (columns.length === 1 && columns[0]?.toLowerCase() === 'all') return Object.freeze({ type: 'check', columns: 'all' });
  return Object.freeze({ type: 'check', columns: Object.freeze(columns) });
}

function parseBoolean(text: string | undefined, problem: (message: string) => void): boolean {
  if (text === undefined) return false;
  const lower = text.trim().toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  problem(`invalidate_hard_deletes must be true or false, not "${text}"`);
  return false;
}

function columnList(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

/**
 * Refuses to rebuild snapshots from scratch (`--full-refresh`) unless `--force` names each of
 * them: a snapshot's history cannot be recomputed from its source. Throws a usage error (exit
 * code 2, HTTP 400) naming the snapshots that are not forced.
 *
 * @param snapshots keys of the snapshot assets a full refresh would rebuild
 * @param forced keys named by `--force`
 * @param names how the message names the full refresh and tells how to force (default: the CLI's options)
 *
 * @example
 * assertSnapshotRefresh(['snapshots/customers'], []) // throws: snapshots/customers keeps history ...
 */
export function assertSnapshotRefresh(
  snapshots: Iterable<string>,
  forced: Iterable<string>,
  names: { readonly fullRefresh: string; readonly forceHint: (keys: readonly string[]) => string } = {
    fullRefresh: '--full-refresh',
    forceHint: (keys) => `add --force ${keys.join(',')}`,
  },
): void {
  const allowed = new Set(forced);
  const refused = [...snapshots].filter((key) => !allowed.has(key)).sort();
  if (refused.length === 0) return;
  const list = refused.join(', ');
  throw new StrataError(
    'snapshot_refresh_refused',
    `${names.fullRefresh} would drop the history of snapshot${refused.length === 1 ? '' : 's'} ${list}, which cannot be rebuilt from the source: leave ${refused.length === 1 ? 'it' : 'them'} out of the selection, or ${names.forceHint(refused)} to drop ${refused.length === 1 ? 'it' : 'them'}`,
    { ...(refused.length === 1 ? { assetKey: refused[0] as string } : {}), argument: names.fullRefresh },
    true,
  );
}

/** What a snapshot write did, as the materialization metadata records it. */
export interface SnapshotCounts {
  /** New versions (changed rows, new keys). */
  readonly rowsInserted: number;
  /** Versions closed (changed rows, hard deletes). */
  readonly rowsClosed: number;
}

/** The snapshot counts of a materialization's metadata, if it has them. */
export function snapshotCounts(metadata: Readonly<Record<string, unknown>> | undefined): SnapshotCounts | undefined {
  if (typeof metadata?.rowsClosed !== 'number') return undefined;
  return { rowsInserted: typeof metadata.rowsInserted === 'number' ? metadata.rowsInserted : 0, rowsClosed: metadata.rowsClosed };
}
