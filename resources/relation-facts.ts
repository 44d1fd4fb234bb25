/**
 * Facts about a relation (a table, or a query bound but not run) inside a step's transaction:
 * its columns with their DuckDB types, and its row count. Shared by the incremental and snapshot
 * writes.
 */
import type { Row } from '../core/model/definitions/asset-context.ts';

/** What these reads need of a session. */
export interface ReadingSession {
  all<T extends Row = Row>(sql: string): Promise<T[]>;
}

/** The columns of `relation` (`SELECT …` or a table name) in order, with their DuckDB types. */
export async function relationColumns(session: ReadingSession, relation: string): Promise<Map<string, string>> {
  const rows = await session.all<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`);
  return new Map(rows.map((r) => [r.column_name, r.column_type]));
}

/** Rows of `table` (matching `where`, when given). */
export async function countRows(session: ReadingSession, table: string, where?: string): Promise<number> {
  const rows = await session.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}${where === undefined ? '' : ` WHERE ${where}`}`);
  return Number(rows[0]?.n ?? 0);
}
