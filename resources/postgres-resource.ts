/**
 * A Postgres database of strata.json `"resources"`: a pg Pool opened on first use and closed at
 * the end of the run. Queries stop when their signal aborts (the server cancels them with
 * `pg_cancel_backend`); errors name the resource, host, port and database, never the password.
 */
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type * as PgCopyStreams from 'pg-copy-streams';
import { ResourceError } from '../core/model/errors.ts';
import { resolveSetting, type PostgresResourceConfig } from '../core/model/config/resources-config.ts';

let drivers: { readonly pg: typeof pg; readonly copyTo: typeof PgCopyStreams.to } | undefined;

/**
 * pg and pg-copy-streams, required on first use: a project without Postgres resources never
 * loads them (pg alone costs about a fifth of an `assets list` cold start).
 */
function postgresDrivers(): { readonly pg: typeof pg; readonly copyTo: typeof PgCopyStreams.to } {
  const require = createRequire(import.meta.url);
  drivers ??= { pg: require('pg') as typeof pg, copyTo: (require('pg-copy-streams') as typeof PgCopyStreams).to };
  return drivers;
}

/** A column of a Postgres result: its name and type (OID and modifier). */
export interface PostgresColumn {
  readonly name: string;
  readonly typeId: number;
  readonly typeModifier: number;
}

/** Where a resource connects, for messages: no password. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** The pool settings of a resource, its `env:` settings read. */
interface ResolvedSettings {
  readonly pool: pg.PoolConfig;
  readonly target: PostgresTarget;
  readonly password: string | undefined;
}

/** Errors of a lost or refused connection (retried by the retry policy), as opposed to a failing query. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03', '28P01', '28000', '3D000']);

/** One Postgres resource. */
export class PostgresResource {
  readonly name: string;
  readonly #config: PostgresResourceConfig;
  readonly #env: NodeJS.ProcessEnv;
  #pool: pg.Pool | undefined;
  #settings: ResolvedSettings | undefined;

  constructor(name: string, config: PostgresResourceConfig, env: NodeJS.ProcessEnv = process.env) {
    this.name = name;
    this.#config = config;
    this.#env = env;
  }

  /** `host:port/database` (resolving `env:` settings; throws when a variable is not set). */
  where(): string {
    const { target } = this.#resolve();
    return `${target.host}:${target.port}/${target.database}`;
  }

  /** Runs `sql` (parameters bind `$1`, `$2`, ...) and returns its rows; `signal` cancels it on the server. */
  async query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], signal?: AbortSignal): Promise<T[]> {
    return this.#withClient(signal, async (client) => (await client.query<T>(sql, params as unknown[])).rows);
  }

  /** The columns `select` returns, without running it to the end (`limit 0`). */
  async columns(select: string, signal?: AbortSignal): Promise<PostgresColumn[]> {
    return this.#withClient(signal, async (client) => {
      const result = await client.query(`select * from (\n${bare(select)}\n) as strata_columns limit 0`);
      return result.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID, typeModifier: f.dataTypeModifier }));
    });
  }

  /**
   * Streams the rows of `select` to `file` as CSV with a header (`COPY (...) TO STDOUT`): the
   * result never sits in memory. Returns the rows copied.
   */
  async copyToCsv(select: string, file: string, signal?: AbortSignal): Promise<number> {
    return this.#withClient(signal, async (client) => {
      const stream = client.query(postgresDrivers().copyTo(`COPY (\n${bare(select)}\n) TO STDOUT (FORMAT csv, HEADER)`));
      await pipeline(stream, createWriteStream(file));
      return stream.rowCount ?? 0;
    });
  }

  /** Closes the pool (a later use opens a new one). */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async #withClient<T>(signal: AbortSignal | undefined, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw this.#canceled();
    const pool = this.#open();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw this.#failure(error);
    }
    let canceled = false;
    const onAbort = () => {
      canceled = true;
      void this.#cancelBackend((client as pg.PoolClient & { processID?: number }).processID);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let broken: unknown;
    try {
      return await work(client);
    } catch (error) {
      broken = error;
      if (canceled || signal?.aborted) throw this.#canceled();
      throw this.#failure(error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A connection whose query failed mid-stream is not handed to the next user.
      client.release(broken instanceof Error && (canceled || isConnectionError(broken)) ? broken : undefined);
    }
  }

  /** Asks the server to cancel the query of backend `pid` (from a connection of its own). */
  async #cancelBackend(pid: number | null | undefined): Promise<void> {
    if (pid == null) return;
    const canceller = new (postgresDrivers().pg.Client)(this.#resolve().pool);
    try {
      await canceller.connect();
      await canceller.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // The query ends with its connection anyway; nothing more to do.
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }

  #open(): pg.Pool {
    if (this.#pool) return this.#pool;
    const pool = new (postgresDrivers().pg.Pool)(this.#resolve().pool);
    // An idle connection the server drops must not crash the process; the next use reconnects.
    pool.on('error', () => undefined);
    this.#pool = pool;
    return pool;
  }

  #resolve(): ResolvedSettings {
    if (this.#settings) return this.#settings;
    const c = this.#config;
    const env = this.#env;
    const read = <T>(value: T | string | undefined, field: string) => (value === undefined ? undefined : resolveSetting(value, this.name, field, env));
    const url = read(c.url, 'url') as string | undefined;
    const parsed = url === undefined ? undefined : parseUrl(url, this.name);
    const password = (read(c.password, 'password') as string | undefined) ?? parsed?.password ?? env.PGPASSWORD;
    const user = (read(c.user, 'user') as string | undefined) ?? parsed?.user ?? env.PGUSER ?? env.USER ?? 'postgres';
    const target: PostgresTarget = {
      host: (read(c.host, 'host') as string | undefined) ?? parsed?.host ?? env.PGHOST ?? 'localhost',
      port: Number(read(c.port, 'port') ?? parsed?.port ?? env.PGPORT ?? 5432),
      database: (read(c.database, 'database') as string | undefined) ?? parsed?.database ?? env.PGDATABASE ?? user,
      user,
    };
    const pool: pg.PoolConfig = {
      ...target,
      ...(password === undefined ? {} : { password }),
      max: c.maxConnections ?? 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      // Timestamps leave Postgres in UTC and ISO form, so DuckDB reads them back exactly.
      options: '-c TimeZone=UTC -c DateStyle=ISO',
    };
    this.#settings = { pool, target, password };
    return this.#settings;
  }

  #canceled(): ResourceError {
    return new ResourceError('canceled', `query on Postgres resource ${this.name} canceled`);
  }

  /** A pg error as a {@link ResourceError} naming the resource and where it is, with the password masked. */
  #failure(error: unknown): ResourceError {
    const { target, password } = this.#resolve();
    let message = error instanceof Error ? error.message : String(error);
    if (error instanceof AggregateError && error.errors.length > 0) message = error.errors.map((e: Error) => e.message).join('; ');
    if (password) message = message.split(password).join('***');
    const where = `${target.host}:${target.port}/${target.database}`;
    if (isConnectionError(error)) {
      return new ResourceError(
        'resource_unreachable',
        `cannot connect to Postgres resource ${this.name} at ${where} as ${target.user}: ${message}`,
        {},
        false,
        { cause: error },
      );
    }
    return new ResourceError('resource_query_failed', `Postgres resource ${this.name} (${where}): ${message}`, {}, false, { cause: error });
  }
}

/** A query without its trailing semicolons, to wrap in `(...)`. */
function bare(select: string): string {
  return select.replace(/[\s;]+$/, '');
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  return error instanceof Error && /timeout expired|Connection terminated/i.test(error.message);
}

function parseUrl(url: string, name: string): { host?: string; port?: number; database?: string; user?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No cause: URL's TypeError holds the input, which may hold a password.
    throw new ResourceError('resource_invalid', `resource ${name}: url is not a postgres:// URL`, {}, true);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new ResourceError('resource_invalid', `resource ${name}: url is not a postgres:// URL (it starts with ${parsed.protocol})`, {}, true);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    ...(parsed.hostname ? { host: decodeURIComponent(parsed.hostname) } : {}),
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    ...(database ? { database } : {}),
    ...(parsed.username ? { user: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}
