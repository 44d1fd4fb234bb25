import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, listValue, timestampValue, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import { keyToTable, qualifiedTableName, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { assignBuckets, countRowsSql, rowsOutsideError, scopeFilter, type PartitionScope } from './partition-writes.ts';
import { StrataError } from '../core/model/errors.ts';
import { refuseSnapshotReplace, SNAPSHOT_MARK } from './snapshot-writes.ts';
import type { Row, SqlParam, WarehouseSession } from '../core/model/definitions/asset-context.ts';
import { tableColumns, writeIncremental, type MergeOptions, type MergeResult } from './incremental-writes.ts';
import type { IncrementalCounts } from '../core/model/definitions/incremental-config.ts';

/**
 * The DuckDB warehouse resource: one DuckDB database (a file, or `:memory:`) shared by all
 * steps of a process, with a small pool of connections. Each step writes through a
 * {@link StepSession}, which runs everything it does in one transaction.
 *
 * @example
 * const warehouse = await DuckDBWarehouse.open('.strata/warehouse.duckdb');
 * const session = warehouse.session('staging/orders');
 * await session.replaceTable('select 1 as id');
 * await session.commit();
 */
export class DuckDBWarehouse {
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
   * process holds the file, only its snapshot writes (see {@link StepSession.commit}) add any.
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
   * the progress of their queries (see {@link StepSession.progress}) without printing it.
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

  /** A session for one step of `key`; nothing touches DuckDB until the session is used. */
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

  session(key: string, scope?: PartitionScope): StepSession {
    return new StepSession(this, key, scope);
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

/** How far the statement a step is running has got, as DuckDB estimates it. */
export interface QueryProgress {
  /** 0–100. */
  readonly percentage: number;
  /** DuckDB's count of the work done and to do (rows for table scans; its own units for files). */
  readonly rowsProcessed: number;
  readonly totalRows: number;
}

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

/**
 * One step's view of the warehouse. The first statement borrows a connection and opens a
 * transaction; {@link commit} or {@link rollback} ends it and returns the connection.
 */
export class StepSession implements WarehouseSession {
  readonly #warehouse: DuckDBWarehouse;
  readonly #key: string;
  #connection: DuckDBConnection | undefined;
  #opening: Promise<DuckDBConnection> | undefined;
  #ended = false;
  #interrupted = false;
  /** Row count of the last {@link replaceTable}, if any. */
  rowsWritten: number | undefined;

  readonly #scope: PartitionScope | undefined;
  /** The table's columns as checked by this step; shared with later steps once it commits. */
  #checked: ReadonlyMap<string, string> | undefined;
  #madeSnapshot = false;
  /** Rows per partition after {@link replacePartitions} or a partitioned {@link merge}, if one ran. */
  partitionRows: ReadonlyMap<string, number> | undefined;
  /** What a partitioned incremental write did to each partition (see incremental-window.ts). */
  partitionCounts: ReadonlyMap<string, IncrementalCounts> | undefined;

  constructor(warehouse: DuckDBWarehouse, key: string, scope?: PartitionScope) {
    this.#warehouse = warehouse;
    this.#key = key;
    this.#scope = scope;
  }

  /** True once the step has issued a statement. */
  get used(): boolean {
    return this.#opening !== undefined;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    const connection = await this.#open();
    await connection.run(sql, toDuckValues(params));
  }

  async all<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return readRows<T>(await this.#open(), sql, params);
  }

  /**
   * {@link run} for a statement every step repeats (one statement, parameters `$1…`): prepared
   * once per pooled connection, then only bound and run.
   */
  async runPrepared(sql: string, params: readonly SqlParam[]): Promise<void> {
    const connection = await this.#open();
    let statements = PREPARED.get(connection);
    if (statements === undefined) PREPARED.set(connection, (statements = new Map()));
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = await connection.prepare(sql)));
    const values = toDuckValues(params);
    if (values) statement.bind(values);
    await statement.run();
  }

  /** Runs an INSERT, UPDATE or DELETE and returns the number of rows it changed. */
  async changed(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    const connection = await this.#open();
    return Number((await connection.run(sql, toDuckValues(params))).rowsChanged);
  }

  /** The partitions this step writes; `undefined` for an unpartitioned asset. */
  get scope(): PartitionScope | undefined {
    return this.#scope;
  }

  /** Merges (or appends) into the asset's table; in a partitioned step, into the step's partition window only. */
  async merge(select: string, options: MergeOptions = {}): Promise<MergeResult> {
    const result = await writeIncremental(this, this.#key, select, options, false);
    this.rowsWritten = result.rowCount;
    return result;
  }

  async replaceTable(select: string, params: readonly SqlParam[] = []): Promise<number> {
    const table = qualifiedTableName(this.#key);
    await refuseSnapshotReplace(this, this.#key);
    const connection = await this.#open();
    // CREATE TABLE AS answers with its row count: no count(*) of the new table.
    const created = await (await connection.run(`CREATE OR REPLACE TABLE ${table} AS ${select}`, toDuckValues(params))).getRows();
    const count = created[0]?.[0];
    this.rowsWritten = typeof count === 'bigint' || typeof count === 'number' ? Number(count) : await this.rowCount(this.#key);
    return this.rowsWritten;
  }

  /**
   * Replaces this step's partitions of the asset's table with the rows of `select`, in the
   * step's transaction: creates the table if needed, deletes the rows of the step's window (or
   * static keys) by the partition column, inserts the new rows by column name. Returns the
   * number of rows inserted; per-partition counts land in {@link partitionRows}. Fails (and so
   * rolls back) when a row falls outside the step's partitions, or when the query's columns no
   * longer match the table and the step does not cover every partition.
   */
  async replacePartitions(select: string, params: readonly SqlParam[] = []): Promise<number> {
    const scope = this.#scope;
    if (!scope)
      throw new StrataError('not_partitioned', `${this.#key} is not partitioned (or has no partition column): use replaceTable`, { assetKey: this.#key });
    const table = qualifiedTableName(this.#key);
    const column = quoteIdentifier(scope.column);
    await refuseSnapshotReplace(this, this.#key);
    const columnType = await this.#prepareTable(select, params, scope);
    await this.run(`DELETE FROM ${table} WHERE ${scopeFilter(scope, column, columnType)}`);
    const connection = await this.#open();
    const inserted = (await connection.run(`INSERT INTO ${table} BY NAME SELECT * FROM (${select})`, toDuckValues(params))).rowsChanged;
    const counts = assignBuckets(scope, await this.all<{ k: string; n: number }>(countRowsSql(scope, table, column, columnType)));
    const inside = [...counts.values()].reduce((a, b) => a + b, 0);
    if (inside !== inserted) throw rowsOutsideError(this.#key, scope, inserted - inside, inserted);
    this.partitionRows = counts;
    this.rowsWritten = inserted;
    return inserted;
  }

  /**
   * Creates the table on first write; when the query's columns changed, rebuilds it if the step
   * covers every partition, else fails clearly. Returns the partition column's DuckDB type. A
   * table checked once is not checked again by this warehouse (the rest of the run's steps of
   * one asset run the same query).
   */
  async #prepareTable(select: string, params: readonly SqlParam[], scope: PartitionScope): Promise<string | undefined> {
    const known = this.#warehouse.checkedTables.get(this.#key);
    if (known) return known.get(scope.column);
    const table = qualifiedTableName(this.#key);
    let existing = await this.#columns();
    if (existing.size === 0) {
      await this.run(`CREATE TABLE ${table} AS SELECT * FROM (${select}) LIMIT 0`, params);
      existing = await this.#columns();
    } else {
      const incoming = (await this.all<{ column_name: string }>(`DESCRIBE SELECT * FROM (${select})`, params)).map((r) => r.column_name);
      const added = incoming.filter((c) => !existing.has(c));
      const removed = [...existing.keys()].filter((c) => !incoming.includes(c));
      if (added.length > 0 || removed.length > 0) {
        if (!scope.complete) {
          const change = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
          throw new StrataError(
            'partition_columns_changed',
            `the columns of ${this.#key} changed (${change}): rebuild every partition at once with assets materialize --select ${this.#key}`,
            { assetKey: this.#key },
          );
        }
        await this.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM (${select}) LIMIT 0`, params);
        existing = await this.#columns();
      }
    }
    this.#checked = existing;
    return existing.get(scope.column);
  }

  /** The asset table's columns and their DuckDB types, as this transaction sees them. */
  #columns(): Promise<Map<string, string>> {
    return tableColumns(this, this.#key);
  }

  /** Replaces this asset's view with `select`. */
  async replaceView(select: string): Promise<void> {
    await refuseSnapshotReplace(this, this.#key);
    await this.run(`CREATE OR REPLACE VIEW ${qualifiedTableName(this.#key)} AS ${select}`);
  }

  /** Row count of an asset's table as this transaction sees it. */
  async rowCount(key: string): Promise<number> {
    const rows = await this.all<{ n: number }>(`SELECT count(*) AS n FROM ${qualifiedTableName(key)}`);
    return Number(rows[0]?.n ?? 0);
  }

  tableOf(key: string): string {
    return qualifiedTableName(key);
  }

  /**
   * The progress of the statement this step is running, when DuckDB can estimate it (a scan of
   * a table or file); `undefined` when no statement runs or DuckDB has no estimate.
   */
  progress(): QueryProgress | undefined {
    if (this.#connection === undefined || this.#ended) return undefined;
    const { percentage, rows_processed, total_rows_to_process } = this.#connection.progress;
    if (!(percentage >= 0)) return undefined;
    return { percentage: Math.min(100, percentage), rowsProcessed: Number(rows_processed), totalRows: Number(total_rows_to_process) };
  }

  /** The schema of this step's asset. */
  get schema(): string {
    return keyToTable(this.#key).schema;
  }

  /** Commits the transaction, if one was opened. */
  async commit(): Promise<void> {
    await this.#end('COMMIT');
    if (this.#checked) this.#warehouse.checkedTables.set(this.#key, this.#checked);
    if (this.#madeSnapshot) await this.#warehouse.addSnapshotTable(this.#key);
  }

  /** Whether the asset's table holds a snapshot's history (as committed: see {@link DuckDBWarehouse.isSnapshotTable}). */
  isSnapshotTable(): Promise<boolean> {
    return this.#warehouse.isSnapshotTable(this.#key);
  }

  /** Says that this step made the asset's table a snapshot's history table (counted once it commits). */
  madeSnapshot(): void {
    this.#madeSnapshot = true;
  }

  /** Rolls the transaction back, if one was opened; never throws. */
  async rollback(): Promise<void> {
    try {
      await this.#end('ROLLBACK');
    } catch {
      // The connection may already have aborted the transaction; nothing was committed.
    }
  }

  /**
   * Interrupts the statement in flight (Ctrl-C) and refuses every later one; the step then
   * fails and rolls back.
   */
  interrupt(): void {
    this.#interrupted = true;
    this.#connection?.interrupt();
  }

  async #open(): Promise<DuckDBConnection> {
    if (this.#interrupted) throw new StrataError('interrupted', `the step of ${this.#key} was canceled`, { assetKey: this.#key }, false);
    if (this.#ended) throw new Error(`the warehouse session of ${this.#key} has ended`);
    this.#opening ??= (async () => {
      const connection = await this.#warehouse.acquire();
      this.#connection = connection;
      await connection.run('BEGIN TRANSACTION');
      return connection;
    })();
    return this.#opening;
  }

  async #end(statement: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#opening) return;
    const connection = await this.#opening;
    try {
      await connection.run(statement);
    } finally {
      this.#warehouse.release(connection);
    }
  }
}

/** Runs a query and returns plain row objects (safe BIGINTs become numbers). */
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

/** Prepared statements of {@link StepSession.runPrepared}, per pooled connection. */
const PREPARED = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

function toDuckValues(params: readonly SqlParam[]): DuckDBValue[] | undefined {
  if (params.length === 0) return undefined;
  return params.map((p): DuckDBValue => {
    if (p instanceof Date) return timestampValue(BigInt(p.getTime()) * 1000n);
    if (Array.isArray(p)) return listValue(p as string[]);
    return p as DuckDBValue;
  });
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** One table in a set of tables. */
function tableId(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}
