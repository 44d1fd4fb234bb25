/**
 * Values crossing between Strata and DuckDB: bound parameters in, plain row objects out.
 */
import { listValue, timestampValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';

/** Runs a query and returns plain row objects (safe BIGINTs become numbers, wider ones decimal text). */
export async function readRows<T extends Row>(connection: DuckDBConnection, sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
  const reader = await connection.runAndReadAll(sql, toDuckValues(params));
  return reader.getRowObjectsJS().map((row) => {
    const out: Row = {};
    for (const [name, value] of Object.entries(row)) out[name] = plainValue(value);
    return out as T;
  });
}

function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
}

/** Parameters as DuckDB values: a `Date` binds as a TIMESTAMP (UTC), a string array as a `VARCHAR[]` list. */
export function toDuckValues(params: readonly SqlParam[]): DuckDBValue[] | undefined {
  if (params.length === 0) return undefined;
  return params.map((p): DuckDBValue => {
    if (p instanceof Date) return timestampValue(BigInt(p.getTime()) * 1000n);
    if (Array.isArray(p)) return listValue(p as string[]);
    return p as DuckDBValue;
  });
}
