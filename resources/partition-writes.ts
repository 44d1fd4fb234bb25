import { quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { StrataError } from '../core/model/errors.ts';
import { quoteLiteral } from '../core/model/definitions/sql-template.ts';
import type { ReadingSession } from './relation-facts.ts';

/**
 * SQL for partition writes: the condition that selects a step's rows, and how rows are counted
 * per partition. Bounds are local wall-clock `YYYY-MM-DD HH:mm:ss` strings from validated keys.
 */

/**
 * The partitions one step writes: the DuckDB column that holds the partition and, per
 * partition, its key and (time windows) local wall-clock bounds `YYYY-MM-DD HH:mm:ss`.
 */
export interface PartitionScope {
  readonly column: string;
  /** True when the step writes every partition of the asset (a changed set of columns may then rebuild the table). */
  readonly complete: boolean;
  readonly partitions: readonly { readonly key: string; readonly start?: string; readonly end?: string }[];
}

const MIDNIGHT = ' 00:00:00';

/**
 * A typed literal for a bound: `DATE 'YYYY-MM-DD'` when it is midnight and the column holds
 * dates (so DuckDB compares dates and skips row groups outside the window), else `TIMESTAMP`.
 */
export function boundLiteral(bound: string, columnType: string | undefined): string {
  return columnType === 'DATE' && bound.endsWith(MIDNIGHT) ? `DATE '${bound.slice(0, 10)}'` : `TIMESTAMP '${bound}'`;
}

/** The WHERE condition selecting a scope's rows: one time range (steps hold consecutive windows) or the static keys. */
export function scopeFilter(scope: PartitionScope, column: string, columnType: string | undefined): string {
  const first = scope.partitions[0];
  const last = scope.partitions.at(-1);
  if (first?.start !== undefined && last?.end !== undefined) {
    return `${column} >= ${boundLiteral(first.start, columnType)} AND ${column} < ${boundLiteral(last.end, columnType)}`;
  }
  return `${column}::VARCHAR IN (${scope.partitions.map((p) => quoteLiteral(p.key)).join(', ')})`;
}

/** The scope's partitions as text: `2025-01-01` or `2025-01-01..2025-01-05`. */
export function scopeText(scope: PartitionScope): string {
  const last = scope.partitions.length > 1 ? `..${scope.partitions.at(-1)?.key}` : '';
  return `${scope.partitions[0]?.key}${last}`;
}

/** The error of a step whose new rows (`outside` of `total`) fall outside its partitions or have a NULL partition column. */
export function rowsOutsideError(key: string, scope: PartitionScope, outside: number, total: number): StrataError {
  return new StrataError(
    'rows_outside_partition',
    `${outside} of ${total} rows fall outside the partitions being written (${scopeText(scope)}) or have a NULL ${scope.column}: filter the query on ${scope.column}`,
    { assetKey: key },
  );
}

/**
 * Fails with {@link rowsOutsideError} when rows of `relation` (a staged table) fall outside the
 * scope's partitions; `columnType` is the partition column's type in the target table.
 */
export async function refuseRowsOutside(
  session: ReadingSession,
  key: string,
  scope: PartitionScope,
  relation: string,
  columnType: string | undefined,
): Promise<void> {
  const filter = scopeFilter(scope, quoteIdentifier(scope.column), columnType);
  const [row] = await session.all<{ total: number; inside: number }>(`SELECT count(*) AS total, count(*) FILTER (WHERE ${filter}) AS inside FROM ${relation}`);
  const total = Number(row?.total ?? 0);
  const inside = Number(row?.inside ?? 0);
  if (inside !== total) throw rowsOutsideError(key, scope, total - inside, total);
}

/**
 * The query counting a scope's rows, returning `(k, n)` rows: static keys group by value; one
 * window counts its filter; a range groups by day (or hour, for windows not aligned on
 * midnight) and {@link assignBuckets} places the buckets in their windows.
 */
export function countRowsSql(scope: PartitionScope, table: string, column: string, columnType: string | undefined): string {
  return `SELECT ${bucketExpression(scope, column)} AS k, count(*) AS n FROM ${table} WHERE ${scopeFilter(scope, column, columnType)} GROUP BY 1`;
}

/**
 * The SQL naming the bucket of a row's partition: the key itself for one partition, the value
 * as text for static keys, else its day or hour (time windows of a range step), which
 * {@link windowOf} maps to the window holding it.
 */
export function bucketExpression(scope: PartitionScope, column: string): string {
  if (scope.partitions[0]?.start === undefined) return `${column}::VARCHAR`;
  if (scope.partitions.length === 1) return quoteLiteral(scope.partitions[0]?.key ?? '');
  const unit = scope.partitions.every((p) => p.start?.endsWith(MIDNIGHT) && p.end?.endsWith(MIDNIGHT)) ? 'day' : 'hour';
  return `date_trunc('${unit}', ${column})::TIMESTAMP::VARCHAR`;
}

/** Adds each `(bucket, count)` to the window whose start is the last one at or before the bucket. */
export function assignBuckets(scope: PartitionScope, rows: readonly { k: string; n: number }[]): Map<string, number> {
  const counts = new Map(scope.partitions.map((p) => [p.key, 0]));
  const timed = scope.partitions[0]?.start !== undefined && scope.partitions.length > 1;
  for (const row of rows) {
    const key = timed ? windowOf(scope, row.k) : row.k;
    if (key !== undefined && counts.has(key)) counts.set(key, (counts.get(key) ?? 0) + Number(row.n));
  }
  return counts;
}

/** The partition a bucket (see {@link bucketExpression}) belongs to. */
export function windowOf(scope: PartitionScope, bucket: string): string | undefined {
  if (scope.partitions[0]?.start === undefined || scope.partitions.length === 1) return scope.partitions.some((p) => p.key === bucket) ? bucket : undefined;
  let low = 0;
  let high = scope.partitions.length - 1;
  let found: string | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const partition = scope.partitions[middle] as { key: string; start?: string };
    if ((partition.start ?? '') <= bucket) {
      found = partition.key;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
