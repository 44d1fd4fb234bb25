/**
 * Facts about a relation (a table, or a query bound but not run) inside a step's transaction:
 * its columns with their DuckDB types, and its row count. Shared by the incremental and snapshot
 * writes.
 */
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';

/** What these reads need of a session. */
export interface ReadingSession {
  all<T extends Row = Row>(sql: string): Promise<T[]>;
}

/**
 * What the incremental and snapshot writes need of a step session beyond reading: the statements
 * whose spelling differs between warehouses (DuckDB's `CREATE OR REPLACE`, `INSERT … BY NAME`,
 * `DESCRIBE`), which each warehouse's session writes in its own SQL. Column types are named the
 * way DuckDB names them (`INTEGER`, `VARCHAR`, `TIMESTAMP`, `DECIMAL(10,2)`, …), in words each
 * warehouse also accepts in DDL.
 */
export interface WritingSession extends ReadingSession {
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** Runs a statement and returns the rows it changed. */
  changed(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** The columns of `relation` (`SELECT …` or a table name) in order, with their types. */
  relationColumns(relation: string): Promise<Map<string, string>>;
  /** The asset table's columns and their types, as this transaction sees them (empty: no table). */
  tableColumns(key: string): Promise<Map<string, string>>;
  /** Creates `table` (quoted, qualified unless temporary) with the rows of `select`, replacing an existing one when `replace`. */
  createTableAs(table: string, select: string, options?: { readonly temporary?: boolean; readonly replace?: boolean }): Promise<void>;
  /** Inserts the rows of `select` into `table`, matching columns by name; returns the rows inserted. */
  insertByName(table: string, select: string): Promise<number>;
}

/** The columns of `relation` (`SELECT …` or a table name) in order, with their DuckDB types (DuckDB's `DESCRIBE`). */
export async function relationColumns(session: ReadingSession, relation: string): Promise<Map<string, string>> {
  const rows = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`);
  return new Map(rows.map((r) => [r.column_name, r.column_type]));
}

/** Rows of `table` (matching `where`, when given). */
export async function countRows(session: ReadingSession, table: string, where?: string): Promise<number> {
  const rows = await session.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}${where === undefined ? '' : ` WHERE ${where}`}`);
  return Number(rows[0]?.n ?? 0);
}
