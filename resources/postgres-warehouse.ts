/**
 * The Postgres warehouse, a second implementation of {@link Warehouse}: `"warehouse":
 * "postgres://…"` in strata.json. Steps write through a {@link PostgresStepSession}, each one
 * Postgres transaction on one pooled client; assets' SQL is Postgres SQL. Catalog reads come from
 * pg_catalog (postgres-catalog.ts), check queries are Postgres's (postgres-check-queries.ts).
 */
import type pg from 'pg';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import { keyToTable, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import type { CheckQueries } from './check-queries.ts';
import type { PartitionScope } from './partition-writes.ts';
import { RELATIONS_SQL } from './postgres-catalog.ts';
import { postgresCheckQueries } from './postgres-check-queries.ts';
import { PostgresStepSession } from './postgres-step-session.ts';
import {
  describeWarehouseTarget,
  openWarehousePool,
  toPgValues,
  warehouseSettings,
  warehouseUnreachable,
  type PostgresWarehouseSettings,
} from './postgres-warehouse-connection.ts';
import type { Warehouse, WarehouseRelation } from './warehouse.ts';

/** Connections of one warehouse: enough for the steps a run writes at once, its readers and a cancel. */
const POOL_SIZE = 10;

/**
 * A Postgres database as the warehouse, shared by the steps of a process through one pool.
 *
 * @example
 * const warehouse = await PostgresWarehouse.open('postgres://strata@db.internal/analytics');
 * const session = warehouse.session('staging/orders');
 * await session.replaceTable('select 1 as id');
 * await session.commit();
 */
export class PostgresWarehouse implements Warehouse {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #settings: PostgresWarehouseSettings;
  /** Clients steps hold now (destroyed by {@link close}: a step left open must not hold locks). */
  readonly #lent = new Set<pg.PoolClient>();
  /** The server has MERGE (Postgres 15+); older servers merge by delete and insert. */
  readonly hasMerge: boolean;

  private constructor(pool: pg.Pool, settings: PostgresWarehouseSettings, version: number) {
    this.#pool = pool;
    this.#settings = settings;
    this.hasMerge = version >= 150000;
  }

  /**
   * Connects to the database `url` names; a server that cannot be reached, a refused login or a
   * missing database is a user error (exit 2) naming host, port and database, never the password.
   */
  static async open(url: string): Promise<PostgresWarehouse> {
    const settings = warehouseSettings(url);
    const pool = await openWarehousePool(settings, POOL_SIZE);
    let version: number;
    try {
      const client = await pool.connect();
      try {
        version = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]?.server_version_num);
      } finally {
        client.release();
      }
    } catch (error) {
      void pool.end().catch(() => undefined);
      throw warehouseUnreachable(settings, error);
    }
    return new PostgresWarehouse(pool, settings, version);
  }

  /** `postgres://host:port/database` (no user, no password). */
  get location(): string {
    return `postgres://${describeWarehouseTarget(this.#settings.target)}`;
  }

  get checkQueries(): CheckQueries {
    return postgresCheckQueries;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    // Without parameters, one simple query: several statements may run at once.
    await (params.length === 0 ? this.#pool.query(sql) : this.#pool.query(sql, toPgValues(params)));
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await this.#pool.query(sql, toPgValues(params))).rows as T[];
  }

  /** Creates schemas up front; two processes creating one at once is no error. */
  async ensureSchemas(schemas: Iterable<string>): Promise<void> {
    for (const schema of [...new Set(schemas)].sort()) {
      const create = `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`;
      await this.run(create).catch(async (error: { code?: string }) => {
        // 23505 / 42P06: another connection created it between the check and the insert.
        if (error.code !== '23505' && error.code !== '42P06') throw error;
        await this.run(create);
      });
    }
  }

  relations(): Promise<WarehouseRelation[]> {
    return this.query<{ schema: string; name: string; kind: 'table' | 'view' }>(RELATIONS_SQL);
  }

  /** The columns of an asset's table, typed as Postgres names them in information_schema (what the schema check compares). */
  async columns(key: string): Promise<Map<string, string>> {
    const { schema, table } = keyToTable(key);
    const rows = await this.query<{ c: string; t: string }>(
      'SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [schema, table],
    );
    return new Map(rows.map((r) => [r.c, r.t]));
  }

  session(key: string, scope?: PartitionScope): PostgresStepSession {
    return new PostgresStepSession(this, key, scope);
  }

  /** Borrows a client for a step (returned with {@link giveBack}). */
  async lend(): Promise<pg.PoolClient> {
    const client = await this.#pool.connect();
    this.#lent.add(client);
    return client;
  }

  /** Returns a step's client; `broken` ones are closed rather than reused. */
  giveBack(client: pg.PoolClient, broken = false): void {
    if (!this.#lent.delete(client)) return;
    client.release(broken);
  }

  /** Cancels the statement the server process `pid` is running (a step's interrupt), from another connection. */
  async cancel(pid: number): Promise<void> {
    await this.#pool.query('SELECT pg_cancel_backend($1)', [pid]);
  }

  /** Closes the pool; clients steps still hold are closed, their transactions rolled back by the server. */
  close(): void {
    for (const client of this.#lent) client.release(true);
    this.#lent.clear();
    void this.#pool.end().catch(() => undefined);
  }
}
