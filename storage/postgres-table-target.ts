/**
 * A Postgres database receiving a copy of a storage (`assets storage migrate`): what Strata
 * tables it already has and how many rows they hold (read without writing anything), its schema
 * brought to this Strata's version, and one transaction in which the tables are locked, filled
 * batch by batch (`insert … select * from unnest(…)`: one parameter per column, whatever the
 * batch's size), their identity sequences moved past the copied ids, and read back to verify.
 */

import type pg from 'pg';
import { checkConnection, describeTarget, openPool, postgresSettings } from './postgres-connection.ts';
import { PostgresStorage } from './postgres-storage.ts';
import { RowChecksum } from './row-checksum.ts';
import { quoteIdentifier as quote } from '../core/model/definitions/asset-key.ts';

/** A table of the target as its catalog describes it. */
export interface TargetTable {
  readonly name: string;
  /** Column name → its type as Postgres spells it (`bigint`, `text`, `double precision`). */
  readonly columns: ReadonlyMap<string, string>;
  /** Columns filled by an identity sequence. */
  readonly identityColumns: readonly string[];
}

/** Postgres's error code for a lock wait that ran into `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Rows read back per fetch when verifying. */
const FETCH_ROWS = 5_000;

/**
 * A Postgres database to copy a storage into.
 *
 * @example
 * const target = await PostgresTableTarget.connect(url);
 * console.log(target.where, await target.tables());
 * await target.close();
 */
export class PostgresTableTarget {
  /** `host:port/database, schema NAME`, never the password. */
  readonly where: string;
  /** The schema tables are created in (the first of the search path that exists), if any. */
  readonly schema: string | undefined;
  readonly #url: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #pool: pg.Pool;

  private constructor(url: string, env: NodeJS.ProcessEnv, where: string, schema: string | undefined, pool: pg.Pool) {
    this.#url = url;
    this.#env = env;
    this.where = where;
    this.schema = schema;
    this.#pool = pool;
  }

  /** Connects to `url` once (a `StorageError` `storage_unreachable` when it cannot); writes nothing. */
  static async connect(url: string, env: NodeJS.ProcessEnv = process.env): Promise<PostgresTableTarget> {
    const settings = postgresSettings(url, env, 2);
    const pool = openPool(settings);
    let schema: string | null | undefined;
    try {
      await checkConnection(pool, settings);
      schema = (await pool.query<{ schema: string | null }>('select current_schema() as schema')).rows[0]?.schema;
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresTableTarget(url, env, `${describeTarget(settings.target)}, schema ${schema ?? '(none)'}`, schema ?? undefined, pool);
  }

  /** The tables of the current schema (kysely's bookkeeping left out), by name. */
  async tables(): Promise<Map<string, TargetTable>> {
    const { rows } = await this.#pool.query<{ table: string; column: string; type: string; identity: string }>(
      `select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type, a.attidentity as identity
       from pg_attribute a join pg_class c on c.oid = a.attrelid
       where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
         and c.relname not like 'kysely\\_%'
       order by c.relname, a.attnum`,
    );
    const tables = new Map<string, { name: string; columns: Map<string, string>; identityColumns: string[] }>();
    for (const row of rows) {
      let table = tables.get(row.table);
      if (!table) tables.set(row.table, (table = { name: row.table, columns: new Map(), identityColumns: [] }));
      table.columns.set(row.column, row.type);
      if (row.identity !== '') table.identityColumns.push(row.column);
    }
    return tables;
  }

  /** The number of rows of each of `tables`. */
  async counts(tables: readonly string[]): Promise<Map<string, number>> {
    return counts(this.#pool, tables);
  }

  /**
   * Applies this Strata's migrations (creating the tables in the current schema when they are
   * missing); a database migrated by a newer Strata is a `StorageError` naming both versions.
   */
  async migrate(): Promise<void> {
    await (await PostgresStorage.open(this.#url, this.#env)).close();
  }

  /**
   * Runs `work` in one transaction on one connection, committing when it returns `commit: true`
   * and rolling back otherwise (or when it throws).
   */
  async transaction<T>(work: (session: PostgresCopySession) => Promise<{ readonly commit: boolean; readonly result: T }>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const { commit, result } = await work(new PostgresCopySession(client));
      await client.query(commit ? 'commit' : 'rollback');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** What a copy does inside its transaction. */
export class PostgresCopySession {
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  /**
   * Locks `tables` against other writers (readers still read) until the transaction ends,
   * waiting at most `timeoutMs` for another transaction's locks. Returns `false` when that
   * wait timed out (another process is writing them).
   */
  async lock(tables: readonly string[], timeoutMs: number): Promise<boolean> {
    if (tables.length === 0) return true;
    await this.#client.query(`set local lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    await this.#client.query('savepoint strata_lock');
    try {
      await this.#client.query(`lock table ${tables.map(quote).join(', ')} in exclusive mode`);
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
      await this.#client.query('rollback to savepoint strata_lock');
      return false;
    }
    await this.#client.query('set local lock_timeout = 0');
    return true;
  }

  /** The number of rows of each of `tables`, as this transaction sees them. */
  counts(tables: readonly string[]): Promise<Map<string, number>> {
    return counts(this.#client, tables);
  }

  /** Inserts `rows` (values in the order of `columns`) into `table`, typed as `target` describes its columns. */
  async insert(target: TargetTable, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
    if (rows.length === 0) return;
    const arrays = columns.map((_, i) => rows.map((row) => row[i] ?? null));
    const casts = columns.map((column, i) => `$${i + 1}::${target.columns.get(column)}[]`);
    await this.#client.query(`insert into ${quote(target.name)} (${columns.map(quote).join(', ')}) select * from unnest(${casts.join(', ')})`, arrays);
  }

  /** Moves the identity sequence of `table.column` so the next id is `last + 1` (`last` 0: the next is 1). */
  async setIdentity(table: string, column: string, last: number): Promise<void> {
    await this.#client.query(`select setval(pg_get_serial_sequence($1, $2), $3, $4)`, [quote(table), column, Math.max(last, 1), last > 0]);
  }

  /** The last value the identity sequence of `table.column` handed out (0 when none yet). */
  async identityValue(table: string, column: string): Promise<number> {
    const { rows } = await this.#client.query<{ sequence: string }>(`select pg_get_serial_sequence($1, $2) as sequence`, [quote(table), column]);
    const sequence = rows[0]?.sequence;
    if (!sequence) return 0;
    const { rows: values } = await this.#client.query<{ value: number }>(`select case when is_called then last_value else 0 end as value from ${sequence}`);
    return Number(values[0]?.value ?? 0);
  }

  /** The checksum (see {@link RowChecksum}) of `table`'s `columns`, read in this transaction through a cursor. */
  async checksum(table: string, columns: readonly string[]): Promise<string> {
    const sum = new RowChecksum();
    await this.#client.query(`declare strata_verify no scroll cursor for select ${columns.map(quote).join(', ')} from ${quote(table)}`);
    try {
      for (;;) {
        const { rows } = await this.#client.query<unknown[]>({ text: `fetch ${FETCH_ROWS} from strata_verify`, rowMode: 'array' });
        sum.addAll(rows);
        if (rows.length < FETCH_ROWS) break;
      }
    } finally {
      await this.#client.query('close strata_verify');
    }
    return sum.digest();
  }
}

async function counts(client: pg.Pool | pg.PoolClient, tables: readonly string[]): Promise<Map<string, number>> {
  if (tables.length === 0) return new Map();
  const { rows } = await client.query<{ name: string; n: number }>(
    tables.map((t, i) => `select $${i + 1}::text as name, count(*)::bigint as n from ${quote(t)}`).join(' union all '),
    [...tables],
  );
  return new Map(rows.map((r) => [r.name, Number(r.n)]));
}
