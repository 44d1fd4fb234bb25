/**
 * Connecting to the Postgres storage: the URL read into pool settings, a pool whose 64-bit
 * integers come back as numbers, and connection failures as a {@link StorageError} naming
 * host, port and database, never the password.
 */

import pg from 'pg';
import { ConfigError } from '../core/model/errors.ts';
import { isPostgresUrl } from '../core/model/config/storage-settings.ts';
import { type StorageError, storageUnreachableError } from './storage-error.ts';

/** Where the storage is, for messages: no password. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** A storage URL read: the pool settings and the target they name. */
export interface PostgresSettings {
  readonly target: PostgresTarget;
  readonly pool: pg.PoolConfig;
  /** The password (to mask it out of any message), if the URL or PGPASSWORD gives one. */
  readonly password: string | undefined;
}

const INT8 = 20;
const NUMERIC = 1700;

/** bigint and numeric columns (ids, epoch milliseconds, counts, sums) as numbers, like SQLite returns them. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * The pool settings of a `postgres://user:password@host:port/database` URL. Libpq's environment
 * (PGHOST, PGPASSWORD, ...) fills what the URL leaves out; `?options=-c search_path=...` picks
 * the schema. Throws a {@link ConfigError} (without the URL, which may hold a password) when it
 * is not such a URL.
 *
 * @example
 * postgresSettings('postgres://strata@db.internal/strata', process.env).target
 * // { host: 'db.internal', port: 5432, database: 'strata', user: 'strata' }
 */
export function postgresSettings(url: string, env: NodeJS.ProcessEnv = process.env, max = 8): PostgresSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No cause: URL's TypeError holds the input, which may hold a password.
    throw new ConfigError('the storage is not a valid postgres:// URL');
  }
  if (!isPostgresUrl(url)) throw new ConfigError(`the storage URL is not a postgres:// URL (it starts with ${parsed.protocol})`);
  const decode = (text: string) => (text === '' ? undefined : decodeURIComponent(text));
  const password = decode(parsed.password) ?? env.PGPASSWORD;
  const user = decode(parsed.username) ?? env.PGUSER ?? env.USER ?? 'postgres';
  const target: PostgresTarget = {
    host: decode(parsed.hostname) ?? env.PGHOST ?? 'localhost',
    port: Number(parsed.port || env.PGPORT || 5432),
    database: decode(parsed.pathname.replace(/^\//, '')) ?? env.PGDATABASE ?? user,
    user,
  };
  const options = parsed.searchParams.get('options');
  const pool: pg.PoolConfig = {
    ...target,
    ...(password === undefined ? {} : { password }),
    ...(options === null ? {} : { options }),
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    types,
  };
  return { target, pool, password };
}

/** `host:port/database` of a target. */
export function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}

/** A pool for `settings` whose idle connections the server drops do not crash the process. */
export function openPool(settings: PostgresSettings): pg.Pool {
  const pool = new pg.Pool(settings.pool);
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Connects once, to fail early with a clear {@link StorageError} `storage_unreachable` when
 * the server is down, refuses the login or has no such database.
 */
export async function checkConnection(pool: pg.Pool, settings: PostgresSettings): Promise<void> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unreachable(settings, error);
  }
  client.release();
}

/** A failure to connect as a {@link StorageError} naming the target, the password masked. */
export function unreachable(settings: PostgresSettings, error: unknown): StorageError {
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof AggregateError && error.errors.length > 0) reason = error.errors.map((e: Error) => e.message).join('; ');
  if (reason === '') reason = (error as { code?: string }).code ?? 'connection failed';
  if (settings.password) reason = reason.split(settings.password).join('***');
  return storageUnreachableError(describeTarget(settings.target), settings.target.user, reason, error);
}
