/**
 * The warehouse the engine writes assets into, as one interface: DuckDB (resources/duckdb-warehouse.ts)
 * is the embedded implementation; every implementation passes the contract suite of
 * tests/integration/warehouse-contract.ts. The engine (executor, checks, commit recovery, the run
 * service), the CLI and the UI hold a {@link Warehouse}; SQL whose spelling depends on the
 * database (catalog reads, merges, snapshots, check queries, partition filters) lives behind it.
 *
 * A step writes through a {@link StepSession}: everything it does is one transaction, committed
 * by the executor after the step's blocking checks passed, rolled back otherwise.
 */
import type { Row, SqlParam, WarehouseSession } from '../core/model/definitions/asset-context.ts';
import type { IncrementalCounts, MergeOptions, MergeResult } from '../core/model/definitions/incremental-config.ts';
import type { SnapshotConfig } from '../core/model/definitions/snapshot-config.ts';
import type { ErrorContext } from '../core/model/errors.ts';
import type { CheckQueries } from './check-queries.ts';
import type { IncrementalStart, SqlDialect } from './incremental-writes.ts';
import type { PartitionScope } from './partition-writes.ts';
import type { SnapshotCounts } from './snapshot-writes.ts';

export type { PartitionScope } from './partition-writes.ts';
export type { CheckQueries } from './check-queries.ts';
export type { IncrementalStart, SqlDialect } from './incremental-writes.ts';
export type { SnapshotCounts } from './snapshot-writes.ts';

/** How far the statement a step is running has got, as the warehouse estimates it. */
export interface QueryProgress {
  /** 0–100. */
  readonly percentage: number;
  /** The warehouse's count of the work done and to do (rows for table scans; its own units for files). */
  readonly rowsProcessed: number;
  readonly totalRows: number;
}

/** One table or view of the warehouse's catalog. */
export interface WarehouseRelation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view';
}

/** One table or view as a step's transaction sees it, with what tells its versions apart. */
export interface CatalogEntry extends WarehouseRelation {
  /** Changes when the relation is replaced, or dropped and created again. */
  readonly identity: string;
  /** Changes when a table's columns change (ALTER); a view's is constant. */
  readonly shape: string;
}

/**
 * One warehouse: a database the engine opens once per process (or per run) and shares between
 * the steps it runs at once. Opened by {@link openWarehouse} (resources/open-warehouse.ts).
 *
 * @example
 * const warehouse = await openWarehouse(config.warehouseFile, warehouseOpenOptions(config));
 * const session = warehouse.session('staging/orders');
 * await session.replaceTable('select 1 as id');
 * await session.commit();
 * warehouse.close();
 */
export interface Warehouse {
  /** Where the warehouse lives (a file path, or `:memory:`), for messages. */
  readonly location: string;
  /** The SQL dialect steps' queries are written in (`{{ watermark }}` literals, extraction). */
  readonly dialect: SqlDialect;
  /** Runs one statement (or several, without parameters) outside any step, committed at once. Parameters bind `$1`, `$2`, … */
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /**
   * Reads rows outside any step (status queries, the commit log, tests), as plain objects:
   * integers that fit a JavaScript number are numbers, wider ones their exact decimal text;
   * decimals and floats numbers; DATE and TIMESTAMP values `Date`s (a TIMESTAMP's wall clock
   * read as UTC); booleans, text and NULL as themselves. Parameters bind `$1`, `$2`, …: strings,
   * numbers, bigints, booleans, null, `Date`s (as timestamps) and string arrays.
   */
  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Creates schemas up front, outside step transactions: two concurrent step transactions that
   * both create the same schema would conflict.
   */
  ensureSchemas(schemas: Iterable<string>): Promise<void>;
  /** The tables and views of the catalog (committed), system schemas left out, sorted by schema and name. */
  relations(): Promise<WarehouseRelation[]>;
  /** The columns of an asset's table with their types, in order, as committed; empty when there is no such table. */
  columns(key: string): Promise<Map<string, string>>;
  /** The SQL of the data-quality checks in this warehouse's dialect (see check-queries.ts). */
  readonly checkQueries: CheckQueries;
  /**
   * A session for one step of `key` (its transaction opens on first use); `scope` names the
   * partitions a partitioned step writes.
   */
  session(key: string, scope?: PartitionScope): StepSession;
  /** Closes the warehouse; sessions must have ended. */
  close(): void;
}

/**
 * One step's transaction in the warehouse: what `ctx.warehouse` offers a TypeScript asset
 * ({@link WarehouseSession}), plus what the engine needs to write SQL, incremental and snapshot
 * assets, run checks, report progress and end the step. The first statement opens the
 * transaction; {@link commit} or {@link rollback} ends it.
 */
export interface StepSession extends WarehouseSession {
  /** The SQL dialect of the warehouse: the one the step's own queries are written in. */
  readonly dialect: SqlDialect;
  /** True once the step has issued a statement (and so holds a transaction). */
  readonly used: boolean;
  /** The partitions this step writes; `undefined` for an unpartitioned asset. */
  readonly scope: PartitionScope | undefined;
  /** Row count of the step's last whole write (replace table or partitions, merge), if any. */
  readonly rowsWritten: number | undefined;
  /** Rows per partition after {@link replacePartitions} or a partitioned merge, if one ran. */
  readonly partitionRows: ReadonlyMap<string, number> | undefined;
  /** What a partitioned incremental write did to each partition. */
  readonly partitionCounts: ReadonlyMap<string, IncrementalCounts> | undefined;
  /** The SQL of the data-quality checks in this warehouse's dialect. */
  readonly checkQueries: CheckQueries;
  /** Runs an INSERT, UPDATE or DELETE and returns the number of rows it changed. */
  changed(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** {@link run} for one statement every step repeats (the commit log's insert): prepared once, then bound. */
  runPrepared(sql: string, params: readonly SqlParam[]): Promise<void>;
  /** Replaces this asset's view with `select`. */
  replaceView(select: string): Promise<void>;
  /**
   * Replaces this asset's table with the rows of a CSV file (a header row naming the columns,
   * comma-separated; `columnTypes` fix some column types, the others are detected) and returns
   * the row count (seeds). A file the warehouse cannot read as CSV fails, leaving the old table.
   */
  replaceTableFromCsv(file: string, columnTypes: Readonly<Record<string, string>>): Promise<number>;
  /** The columns of `relation` (a table name, or a `SELECT …` bound but not run) with their types, in order. */
  relationColumns(relation: string): Promise<Map<string, string>>;
  /**
   * The tables and views of the catalog as this transaction sees them (temporary ones left out):
   * the table-ownership guard compares two readings to see what a step's own SQL touched.
   */
  catalog(): Promise<CatalogEntry[]>;
  /** The asset's table columns and their types as this transaction sees them (empty: no table). */
  tableColumns(key: string): Promise<Map<string, string>>;
  /**
   * An incremental step's start: the table's columns and, in a partitioned step, its window's
   * condition and whether the window has rows (`{{ is_incremental }}`).
   */
  incrementalStart(): Promise<IncrementalStart>;
  /**
   * Writes the rows of `select` incrementally (append, merge by unique key, delete+insert), or
   * with `rebuild` replaces the table (a partitioned step: its partitions) with them. {@link merge}
   * is `writeIncremental(select, options, false)`.
   */
  writeIncremental(select: string, options: MergeOptions, rebuild: boolean): Promise<MergeResult>;
  /** What a full build wrote after the table was filled another way (extraction); checks the unique key is a column. */
  rebuiltTable(uniqueKey: readonly string[]): Promise<MergeResult>;
  /**
   * The largest value of `column` in the asset's table (among the rows matching `where`), as
   * text; `null` when there is none.
   */
  tableWatermark(column: string, where?: string): Promise<string | null>;
  /**
   * The `{{ watermark }}` literal: the column's maximum in the table (`columns` given), or the
   * lowest value of `type` when there is none yet, written for `dialect` (the database that reads
   * the step's query).
   */
  watermarkLiteral(
    column: string,
    columns: ReadonlyMap<string, string> | undefined,
    type: string | undefined,
    dialect: SqlDialect,
    where?: string,
  ): Promise<{ literal: string; value: string | null }>;
  /**
   * Writes a snapshot (SCD type 2) of the rows of `select`: new versions, closed versions, hard
   * deletes (see snapshot-writes.ts). `now` is the step's one "now"; `rebuild` drops the history.
   */
  writeSnapshot(
    select: string,
    config: SnapshotConfig,
    now: Date,
    context: ErrorContext & { readonly assetKey: string },
    rebuild?: boolean,
  ): Promise<SnapshotCounts>;
  /** The progress of the statement running now, when the warehouse can estimate it; `undefined` otherwise. */
  progress(): QueryProgress | undefined;
  /** Interrupts the statement in flight and refuses every later one; the step then fails and rolls back. */
  interrupt(): void;
  /** Commits the transaction, if one was opened. */
  commit(): Promise<void>;
  /** Rolls the transaction back, if one was opened; never throws. */
  rollback(): Promise<void>;
}
