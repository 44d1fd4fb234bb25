/**
 * Connecting to a Postgres warehouse: the `postgres://` URL read into pool settings, values
 * crossing between Strata and `pg` (parameters in, plain row objects out, typed as the DuckDB
 * warehouse types them), and a failure to connect as a clear error naming host, port and
 * database, never the password. `pg` is loaded on first use, so projects on DuckDB never load it.
 */
import type pg from 'pg';
import type { SqlParam } from '../core/model/definitions/asset-context.ts';
import { ConfigError, StrataError } from '../core/model/errors.ts';

/** Where the warehouse is, for messages: no password. */
export interface PostgresWarehouseTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** `host:port/database` of a target. */
export function describeWarehouseTarget(target: PostgresWarehouseTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}

/** A warehouse URL read: the target it names, its password (to mask it out of messages) and the `options` query parameter. */
export interface PostgresWarehouseSettings {
  readonly target: PostgresWarehouseTarget;
  readonly password: string | undefined;
  readonly options: string | undefined;
}

/**
 * Reads a `postgres://user:password@host:port/database` URL; libpq's environment (PGHOST,
 * PGPASSWORD, …) fills what it leaves out. Throws a {@link ConfigError} that never quotes the URL.
 *
 * @example
 * warehouseSettings('postgres://strata@db.internal/analytics').target // { host: 'db.internal', port: 5432, database: 'analytics', user: 'strata' }
 */
export function warehouseSettings(url: string, env: NodeJS.ProcessEnv = process.env): PostgresWarehouseSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('the warehouse is not a valid postgres:// URL');
  }
  const decode = (text: string) => (text === '' ? undefined : decodeURIComponent(text));
  const user = decode(parsed.username) ?? env.PGUSER ?? env.USER ?? 'postgres';
  return {
    target: {
      host: decode(parsed.hostname) ?? parsed.searchParams.get('host') ?? env.PGHOST ?? 'localhost',
      port: Number(parsed.port || env.PGPORT || 5432),
      database: decode(parsed.pathname.replace(/^\//, '')) ?? env.PGDATABASE ?? user,
      user,
    },
    password: decode(parsed.password) ?? env.PGPASSWORD,
    options: parsed.searchParams.get('options') ?? undefined,
  };
}

const INT8 = 20;
const NUMERIC = 1700;
const FLOAT4 = 700;
const FLOAT8 = 701;
const DATE = 1082;
const TIMESTAMP = 1114;

/** `pg` loaded on first use. */
let loaded: Promise<typeof pg> | undefined;

/** The `pg` module, imported once on first call. */
export function loadPg(): Promise<typeof pg> {
  loaded ??= import('pg').then((module) => (module as unknown as { default: typeof pg }).default ?? (module as unknown as typeof pg));
  return loaded;
}

/**
 * Rows as the {@link Warehouse} contract reads them: 64-bit integers as numbers when they fit,
 * else their exact text; numerics and floats as numbers; DATE and TIMESTAMP as `Date`s read as UTC.
 */
function typeParsers(driver: typeof pg): pg.CustomTypesConfig {
  const parsers: Record<number, (value: string) => unknown> = {
    [INT8]: (value) => (Number.isSafeInteger(Number(value)) ? Number(value) : value),
    [NUMERIC]: Number,
    [FLOAT4]: Number,
    [FLOAT8]: Number,
    [DATE]: (value) => utcDate(value),
    [TIMESTAMP]: (value) => utcDate(value),
  };
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      parsers[oid] ?? driver.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/** A DATE or TIMESTAMP's text as the `Date` of that wall clock in UTC (`infinity` stays text). */
function utcDate(text: string): Date | string {
  if (!/^\d{4}-\d\d-\d\d/.test(text)) return text;
  const [day, time = '00:00:00'] = text.split(' ');
  return new Date(`${day}T${time}Z`);
}

/** Opens a pool on `url` whose values come back as {@link typeParsers} says; idle connections the server drops do not crash the process. */
export async function openWarehousePool(settings: PostgresWarehouseSettings, max: number): Promise<pg.Pool> {
  const driver = await loadPg();
  const pool = new driver.Pool({
    ...settings.target,
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.options === undefined ? {} : { options: settings.options }),
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    types: typeParsers(driver),
  });
  pool.on('error', () => undefined);
  return pool;
}

/** A failure to connect as a user error (exit 2) naming host, port and database, the password masked. */
export function warehouseUnreachable(settings: PostgresWarehouseSettings, error: unknown): StrataError {
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof AggregateError && error.errors.length > 0) reason = error.errors.map((e: Error) => e.message).join('; ');
  if (reason === '') reason = (error as { code?: string }).code ?? 'connection failed';
  if (settings.password) reason = reason.split(settings.password).join('***');
  const where = describeWarehouseTarget(settings.target);
  return new StrataError(
    'warehouse_unreachable',
    `cannot connect to the Postgres warehouse at ${where} as ${settings.target.user}: ${reason}`,
    { file: where },
    true,
    {
      cause: error,
    },
  );
}

/** Parameters as `pg` values: a `Date` binds as its UTC wall clock (a TIMESTAMP), a bigint as its text, a string array as an array. */
export function toPgValues(params: readonly SqlParam[]): unknown[] {
  return params.map((p) => {
    if (p instanceof Date) return p.toISOString().replace('T', ' ').replace('Z', '');
    if (typeof p === 'bigint') return p.toString();
    return p;
  });
}
