/**
 * DuckDB SQL of the data-quality checks that test rows: each query returns the violating rows
 * of the rows being checked, with a first column `__partition` naming the bucket of the
 * partition each row belongs to (see partition-writes.ts), so one query counts violations per
 * partition of a range step.
 */

import type { CheckSpec } from '../core/model/definitions/check-spec.ts';
import { quoteLiteral } from '../core/model/definitions/sql-template.ts';
import { quoteIdentifier } from '../core/model/definitions/asset-key.ts';

/** What a check query reads: a table, the filter selecting the step's rows, and the bucket of each row. */
export interface CheckSource {
  readonly table: string;
  /** A WHERE condition (`true` for the whole table). */
  readonly filter: string;
  /** SQL of each row's partition bucket (`''` unpartitioned). */
  readonly bucket: string;
  /** Quoted table of another asset (relationships). */
  readonly tableOf: (key: string) => string;
  /** The partition column (unquoted), when the rows are partitioned. */
  readonly partitionColumn?: string;
}

/** Row-testing checks: those {@link violatingRowsSql} compiles. */
export type RowCheck = Extract<CheckSpec, { type: 'not_null' | 'unique' | 'accepted_values' | 'accepted_range' | 'relationships' | 'not_empty_string' }>;

/** True for checks whose violations are rows of the asset. */
export function isRowCheck(check: CheckSpec): check is RowCheck {
  return ['not_null', 'unique', 'accepted_values', 'accepted_range', 'relationships', 'not_empty_string'].includes(check.type);
}

/**
 * The violating rows of a row check, `__partition` first, then the checked column and the
 * partition column, then the table's other columns: a sample cut to its first columns (as on a
 * wide table) still shows what was checked.
 */
export function violatingRowsSql(check: RowCheck, source: CheckSource): string {
  const { table, filter, bucket } = source;
  const leading = [...new Set(['column' in check ? check.column : undefined, source.partitionColumn].filter((c): c is string => c !== undefined))]
    .map(quoteIdentifier)
    .join(', ');
  const rows = (condition: string) => `SELECT ${bucket} AS __partition, ${leading}, * EXCLUDE (${leading}) FROM ${table} WHERE (${filter}) AND ${condition}`;
  switch (check.type) {
    case 'not_null':
      return rows(`${quoteIdentifier(check.column)} IS NULL`);
    case 'not_empty_string':
      return rows(`${quoteIdentifier(check.column)} IS NOT NULL AND trim(${quoteIdentifier(check.column)}::VARCHAR) = ''`);
    case 'accepted_values': {
      const values = check.values.map((v) => (typeof v === 'string' ? quoteLiteral(v) : String(v))).join(', ');
      return rows(`${quoteIdentifier(check.column)} IS NOT NULL AND ${quoteIdentifier(check.column)} NOT IN (${values})`);
    }
    case 'accepted_range': {
      const column = quoteIdentifier(check.column);
      const outside = [...(check.min === undefined ? [] : [`${column} < ${check.min}`]), ...(check.max === undefined ? [] : [`${column} > ${check.max}`])];
      return rows(`${column} IS NOT NULL AND (${outside.join(' OR ')})`);
    }
    case 'relationships': {
      const column = quoteIdentifier(check.column);
      return rows(
        `${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${source.tableOf(check.to)} AS __target WHERE __target.${quoteIdentifier(check.field)} = ${column})`,
      );
    }
    case 'unique': {
      const columns = check.columns.map(quoteIdentifier).join(', ');
      return `SELECT ${bucket} AS __partition, ${columns}, count(*) AS duplicates FROM ${table} WHERE (${filter}) GROUP BY ALL HAVING count(*) > 1`;
    }
  }
}

/** Violations per bucket of a violating-rows query. */
export function countByBucketSql(violations: string): string {
  return `SELECT __partition AS k, count(*) AS n FROM (${violations}) AS __violations GROUP BY 1`;
}

/** Rows per bucket of the rows being checked (row_count, row_count_anomaly). */
export function rowsByBucketSql(source: CheckSource): string {
  return `SELECT ${source.bucket} AS k, count(*) AS n FROM ${source.table} WHERE ${source.filter} GROUP BY 1`;
}
