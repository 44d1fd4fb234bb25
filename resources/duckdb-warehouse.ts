import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { keyToTable, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import type { PartitionScope } from './partition-writes.ts';
import { StrataError } from '../core/model/errors.ts';
import { SNAPSHOT_MARK } from './snapshot-writes.ts';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import type { CheckQueries } from './check-queries.ts';
import { duckdbCheckQueries } from './duckdb-check-queries.ts';
import { DuckDBStepSession } from './duckdb-step-session.ts';
import { readRows, toDuckValues } from './duckdb-values.ts';
import type { Warehouse, WarehouseRelation } from './warehouse.ts';

export type { QueryProgress } from './warehouse.ts';

/**
 * The DuckDB warehouse, the embedded implementation of {@link Warehouse}: one DuckDB database (a
 * file, or `:memory:`) shared by all steps of a process, with a small pool of connections. Each
 * step writes through a {@link DuckDBStepSession}, which runs everything it does in one transaction.
 * Code outside resources/ holds it as a {@link Warehouse}; only DuckDB's own features use the class:
 * `assets query` (its result reader, resources/warehouse-query.ts) and opening files read-only or
 * waiting for a file lock (resources/warehouse-wait.ts).
 *
 * @example
 * const warehouse = await DuckDBWarehouse.open('.strata/warehouse.duckdb');
 * const session = warehouse.session('staging/orders');
 * await session.replaceTable('select 1 as id');
 * await session.commit();
 */
export class DuckDBWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  readonly path: string;
  readonly #instance: DuckDBInstance;
  readonly #idle: DuckDBConnection[] = [];
  /**
   * Partitioned tables whose columns a step of this process has checked, with their types.
   * Steps commit their table creation before the next step of the same asset starts.
   */
  readonly checkedTables = new Map<string, ReadonlyMap<string, string>>();
  /**
   * Tables holding a snapshot's history (`schema.table`), read from the catalog once: while this
   * process holds the file, only its snapshot writes (see {@link DuckDBStepSession.commit}) add any.
   */
  #snapshotTables: Promise<Set<string>> | undefined;

  private constructor(path: string, instance: DuckDBInstance) {
    this.path = path;
    this.#instance = instance;
  }

  /**
   * Opens (creating if needed) the warehouse file; a file locked by another process is a clear
   * error. With `fileSearchPath` (the project folder), relative file paths in SQL resolve there.
   * `readOnly` opens an existing file without the right to change it (`assets query`): DuckDB
   * then refuses every write, and a missing file is an error instead of a new warehouse.
   */
  static async open(path: string, options: WarehouseOpenOptions = {}): Promise<DuckDBWarehouse> {
    if (options.readOnly && path !== ':memory:' && !existsSync(path)) {
      throw new StrataError(
        'warehouse_missing',
        `there is no warehouse ${path} yet: materialize something first (assets materialize --select ...)`,
        { file: path },
        true,
      );
    }
    if (path !== ':memory:' && !options.readOnly) mkdirSync(dirname(path), { recursive: true });
    try {
      return new DuckDBWarehouse(path, await DuckDBInstance.create(path, instanceSettings(options)));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/lock/i.test(message)) {
        throw new StrataError('warehouse_locked', `the DuckDB warehouse ${path} is in use by another process (${firstLine(message)})`, { file: path }, true, {
          cause: error,
        });
      }
      throw new StrataError('warehouse_open_failed', `cannot open the DuckDB warehouse ${path}: ${firstLine(message)}`, { file: path }, true, { cause: error });
    }
  }

  /**
   * Borrows a connection from the pool. Return it with {@link release}. New connections track
   * the progress of their queries (see {@link DuckDBStepSession.progress}) without printing it.
   */
  async acquire(): Promise<DuckDBConnection> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    const connection = await this.#instance.connect();
    await connection.run(TRACK_PROGRESS);
    return connection;
  }

  /** Returns a connection to the pool. */
  release(connection: DuckDBConnection): void {
    this.#idle.push(connection);
  }

  /** Runs `fn` with a pooled connection. */
  async withConnection<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    try {
      return await fn(connection);
    } finally {
      this.release(connection);
    }
  }

  /** The file (or `:memory:`). */
  get location(): string {
    return this.path;
  }

  get checkQueries(): CheckQueries {
    return duckdbCheckQueries;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.withConnection((connection) => connection.run(sql, toDuckValues(params)));
  }

  async relations(): Promise<WarehouseRelation[]> {
    return this.query<{ schema: string; name: string; kind: 'table' | 'view' }>(
      `SELECT schema_name AS schema, table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary
       UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary
       ORDER BY 1, 2`,
    );
  }

  async columns(key: string): Promise<Map<string, string>> {
    const { schema, table } = keyToTable(key);
    const rows = await this.query<{ c: string; t: string }>(
      'SELECT column_name AS c, data_type AS t FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index',
      [schema, table],
    );
    return new Map(rows.map((r) => [r.c, r.t]));
  }

  /** Reads rows outside any step (status queries, tests). */
  async query<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.withConnection((connection) => readRows<T>(connection, sql, params));
  }

  /**
   * Creates schemas up front, outside step transactions: two concurrent transactions that
   * both create the same schema would conflict.
   */
  async ensureSchemas(schemas: Iterable<string>): Promise<void> {
    const unique = [...new Set(schemas)].sort();
    if (unique.length === 0) return;
    await this.withConnection((connection) => connection.run(unique.map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(s)};`).join('\n')));
  }

  /** Whether the asset's table holds a snapshot's history (see snapshot-writes.ts). */
  async isSnapshotTable(key: string): Promise<boolean> {
    this.#snapshotTables ??= this.query<{ s: string; t: string }>(
      `SELECT schema_name AS s, table_name AS t FROM duckdb_tables() WHERE database_name = current_database() AND comment = '${SNAPSHOT_MARK}'`,
    ).then((rows) => new Set(rows.map((r) => tableId(r.s, r.t))));
    const { schema, table } = keyToTable(key);
    return (await this.#snapshotTables).has(tableId(schema, table));
  }

  /** Records that a committed step made the asset's table a snapshot's history table. */
  async addSnapshotTable(key: string): Promise<void> {
    const { schema, table } = keyToTable(key);
    if (this.#snapshotTables) (await this.#snapshotTables).add(tableId(schema, table));
  }

  /** A session for one step of `key`; nothing touches DuckDB until the session is used. */
  session(key: string, scope?: PartitionScope): DuckDBStepSession {
    return new DuckDBStepSession(this, key, scope);
  }

  close(): void {
    for (const connection of this.#idle.splice(0)) connection.closeSync();
    this.#instance.closeSync();
  }
}

/**
 * Session settings under which DuckDB computes the progress of a running query (read with
 * `connection.progress`) from its first moment, without drawing its own bar on stderr.
 */
const TRACK_PROGRESS = 'SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0;';

/** How {@link DuckDBWarehouse.open} sets DuckDB up. */
export interface WarehouseOpenOptions {
  /**
   * The folder relative file paths in SQL resolve against, whatever the process's working
   * folder (DuckDB's `file_search_path`, for every connection): `read_csv('landing/x.csv')`
   * reads `<folder>/landing/x.csv`. DuckDB reads a plain relative file name (not a glob) from
   * the working folder first when it exists there.
   */
  readonly fileSearchPath?: string;
  /** Open an existing file read-only (see {@link DuckDBWarehouse.open}). */
  readonly readOnly?: boolean;
  /** DuckDB `memory_limit` (`"4GB"`); DuckDB's default is 80% of RAM. */
  readonly memoryLimit?: string;
  /** DuckDB `threads`; DuckDB's default is one per core. */
  readonly threads?: number;
  /** DuckDB `temp_directory` (absolute), where operators spill beyond the memory limit. */
  readonly tempDirectory?: string;
}

/** DuckDB settings of {@link WarehouseOpenOptions}. */
function instanceSettings(options: WarehouseOpenOptions): Record<string, string> | undefined {
  const settings: Record<string, string> = {};
  if (options.readOnly) settings.access_mode = 'READ_ONLY';
  // DuckDB splits the setting at commas: a folder whose name has one cannot be a search path.
  if (options.fileSearchPath !== undefined && !options.fileSearchPath.includes(',')) settings.file_search_path = options.fileSearchPath;
  if (options.memoryLimit !== undefined) settings.memory_limit = options.memoryLimit;
  if (options.threads !== undefined) settings.threads = String(options.threads);
  if (options.tempDirectory !== undefined) settings.temp_directory = options.tempDirectory;
  return Object.keys(settings).length > 0 ? settings : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** One table in a set of tables. */
function tableId(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}
