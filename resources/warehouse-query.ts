/**
 * Ad-hoc SQL against the warehouse for `assets query`: one statement's first rows, as
 * JSON-ready values, with DuckDB's own message when the SQL is wrong or tries to write.
 */

import { DuckDBTypeId, type DuckDBType, type Json } from '@duckdb/node-api';
import { StrataError } from '../core/model/errors.ts';
import type { DuckDBWarehouse } from './duckdb-warehouse.ts';

/** The first rows of a query's result. */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly types: readonly DuckDBType[];
  /**
   * At most the requested number of rows, each value as DuckDB's JSON conversion gives it
   * (wide integers, decimals and times as DuckDB writes them in text); {@link rowObjects} makes JSON of them.
   */
  readonly rows: readonly (readonly (Json | null)[])[];
  /** The result had more rows than were read. */
  readonly truncated: boolean;
}

/**
 * Runs `sql` and reads at most `limit` rows (reading no further than needed to know whether
 * there are more). A statement DuckDB rejects (syntax, unknown table or column, a write on a
 * read-only warehouse, a failing cast) is a user error (`query_failed`) with DuckDB's message.
 *
 * @example
 * const { columns, rows } = await runQuery(warehouse, 'from marts.daily_revenue limit 5', 100);
 */
export async function runQuery(warehouse: DuckDBWarehouse, sql: string, limit: number): Promise<QueryResult> {
  return warehouse.withConnection(async (connection) => {
    try {
      const reader = await connection.streamAndReadUntil(sql, limit + 1);
      const rows = reader.getRowsJson().slice(0, limit);
      return { columns: reader.columnNames(), types: reader.columnTypes(), rows, truncated: reader.currentRowCount > limit };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const readOnly = /read-only mode/i.test(message) ? 'assets query only reads (the warehouse is opened read-only): ' : '';
      throw new StrataError('query_failed', `${readOnly}${message.replace(/^Failed to extract statements: /, '').trim()}`, {}, true, { cause: error });
    }
  });
}

/** The rows as objects, column name to value, each value made JSON-ready by {@link jsonReady}. */
export function rowObjects(result: QueryResult): Record<string, Json | null>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((name, c) => [name, jsonReady(row[c] ?? null, result.types[c] as DuckDBType)])));
}

/** Decimals with at most this many significant digits survive a round trip through a double. */
const EXACT_DIGITS = 15;

/**
 * A top-level value as `--json` prints it. DuckDB's JSON conversion gives 64-bit and wider
 * integers and decimals as strings (exact); here they become numbers when a number holds them
 * exactly (integers up to 2^53, decimals of up to 15 significant digits) and stay strings
 * otherwise. Timestamps become ISO 8601 (`2025-03-01T14:05:09`, with `+00:00` when they carry
 * a zone); dates stay `2025-03-01`. Values inside lists and structs are left as DuckDB gives them.
 */
export function jsonReady(value: Json | null, type: DuckDBType): Json | null {
  if (typeof value !== 'string') return value;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    case DuckDBTypeId.DECIMAL:
      return value.replace(/[-.]/g, '').replace(/^0+/, '').length <= EXACT_DIGITS ? Number(value) : value;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
    default:
      return value;
  }
}
