/**
 * Extraction from Postgres into DuckDB: `COPY (select) TO STDOUT` streams the rows to a CSV file
 * in a temp folder (never the whole result in memory), then DuckDB reads it with `read_csv` and
 * the column types Postgres reported, inside the step's transaction; the file is removed after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WarehouseSession } from '../core/model/definitions/asset-context.ts';
import type { PostgresColumn, PostgresResource } from './postgres-resource.ts';

/** Postgres type OIDs DuckDB reads natively from CSV; the rest arrive as VARCHAR (Postgres's text form). */
const DUCKDB_TYPES: ReadonlyMap<number, string> = new Map([
  [16, 'BOOLEAN'],
  [20, 'BIGINT'],
  [21, 'SMALLINT'],
  [23, 'INTEGER'],
  [26, 'BIGINT'],
  [700, 'FLOAT'],
  [701, 'DOUBLE'],
  [1082, 'DATE'],
  [1083, 'TIME'],
  [1114, 'TIMESTAMP'],
  [1184, 'TIMESTAMPTZ'],
  [2950, 'UUID'],
]);

const NUMERIC = 1700;

/** The DuckDB type of a Postgres column: numeric(p,s) up to 38 digits stays DECIMAL, unbounded numeric is DOUBLE. */
export function duckdbTypeOf(column: PostgresColumn): string {
  if (column.typeId === NUMERIC) {
    if (column.typeModifier < 4) return 'DOUBLE';
    const precision = ((column.typeModifier - 4) >> 16) & 0xffff;
    const scale = (column.typeModifier - 4) & 0xffff;
    return precision >= 1 && precision <= 38 ? `DECIMAL(${precision},${scale})` : 'DOUBLE';
  }
  return DUCKDB_TYPES.get(column.typeId) ?? 'VARCHAR';
}

/** Where {@link extractInto} writes. */
export interface ExtractTarget {
  /** The step's DuckDB session (its transaction). */
  readonly session: WarehouseSession;
  /** The asset's own table: replaced with `replaceTable` (or `replacePartitions` when partitioned). */
  readonly ownTable: string;
  readonly partitioned: boolean;
  /** Another table (a staging table of the step); default the asset's own. */
  readonly into?: string;
  /** Insert into the table instead of replacing it. */
  readonly append?: boolean;
  readonly signal?: AbortSignal;
}

/** Streams the rows of `select` (run on Postgres) into DuckDB; returns the rows written. */
export async function extractInto(resource: PostgresResource, select: string, target: ExtractTarget): Promise<number> {
  const columns = await resource.columns(select, target.signal);
  const dir = await mkdtemp(join(tmpdir(), 'strata-extract-'));
  try {
    const file = join(dir, 'rows.csv');
    await resource.copyToCsv(select, file, target.signal);
    const read = readCsvSql(file, columns);
    const { session } = target;
    const table = target.into ?? target.ownTable;
    if (table === target.ownTable && !target.append) {
      return target.partitioned ? await session.replacePartitions(read) : await session.replaceTable(read);
    }
    const before = target.append ? await countRows(session, table) : 0;
    await session.run(target.append ? `INSERT INTO ${table} BY NAME ${read}` : `CREATE OR REPLACE ${createTarget(table)} AS ${read}`);
    return (await countRows(session, table)) - before;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `select * from read_csv(...)` of a COPY CSV file: Postgres's column names and types, `""` an empty string, empty a NULL. */
function readCsvSql(file: string, columns: readonly PostgresColumn[]): string {
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const struct = columns.map((c) => `${quote(c.name)}: ${quote(duckdbTypeOf(c))}`).join(', ');
  return `SELECT * FROM read_csv(${quote(file)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {${struct}})`;
}

/** `TABLE name`, or `TEMP TABLE name` for `temp.name` (DuckDB creates temporary tables without the catalog). */
function createTarget(table: string): string {
  return /^temp\./i.test(table) ? `TEMP TABLE ${table.slice('temp.'.length)}` : `TABLE ${table}`;
}

async function countRows(session: WarehouseSession, table: string): Promise<number> {
  const [row] = await session.all<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}
