/**
 * The SQL of the data-quality checks, as one interface each warehouse implements in its dialect
 * (DuckDB: duckdb-check-queries.ts). A row check's query returns the violating rows of the rows
 * being checked, with a first column `__partition` naming the bucket of the partition each row
 * belongs to (see partition-writes.ts), so one query counts violations per partition of a range
 * step. The check runner (core/engine/checks) runs them and judges the results.
 */

import type { CheckSpec } from '../core/model/definitions/check-spec.ts';
import type { PartitionScope } from './partition-writes.ts';

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

/** Row-testing checks: those {@link CheckQueries.violatingRows} compiles. */
export type RowCheck = Extract<CheckSpec, { type: 'not_null' | 'unique' | 'accepted_values' | 'accepted_range' | 'relationships' | 'not_empty_string' }>;

/** True for checks whose violations are rows of the asset. */
export function isRowCheck(check: CheckSpec): check is RowCheck {
  return ['not_null', 'unique', 'accepted_values', 'accepted_range', 'relationships', 'not_empty_string'].includes(check.type);
}

/** The queries of the checks, in one warehouse's SQL. */
export interface CheckQueries {
  /** What the checks of `table` read: the whole table, or (with `scope`) the rows of its partitions, bucketed. */
  source(table: string, scope: PartitionScope | undefined, tableOf: (key: string) => string): CheckSource;
  /**
   * The violating rows of a row check, `__partition` first, then the checked column and the
   * partition column, then the table's other columns (`unique`: the key and `duplicates`).
   */
  violatingRows(check: RowCheck, source: CheckSource): string;
  /** Violations per bucket (`k`, `n`) of a violating-rows query. */
  countByBucket(violations: string): string;
  /** Rows per bucket (`k`, `n`) of the rows being checked (row_count, row_count_anomaly). */
  rowsByBucket(source: CheckSource): string;
  /**
   * One row: `newest` (the column's maximum as text, or NULL) and `fresh` (that maximum is at or
   * after `cutoff`, a UTC `YYYY-MM-DD HH:mm:ss.sss` wall-clock time).
   */
  freshness(table: string, column: string, cutoff: string): string;
  /** The columns of an asset's table, as rows of `column_name` and `data_type` (the schema check). */
  columns(key: string): string;
}
