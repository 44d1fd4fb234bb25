/**
 * What an asset's `materialize(ctx)` receives: its identity, the run, a DuckDB session that
 * writes inside the step's transaction, the landing zone and a logger.
 */

/** A value DuckDB accepts as a bound query parameter (a string array binds as a `VARCHAR[]` list). */
export type SqlParam = string | number | boolean | null | bigint | Date | readonly string[];

import type { MergeOptions, MergeResult } from './incremental-config.ts';

/** A row returned by {@link WarehouseSession.all}, with BIGINTs converted to numbers when safe. */
export type Row = Record<string, unknown>;

/**
 * A DuckDB session bound to one step. The first use opens a transaction that the executor
 * commits when the step succeeds and rolls back when it fails or is canceled.
 */
export interface WarehouseSession {
  /** Runs a statement (parameters bind `$1`, `$2`, ...). */
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** Runs a query and returns its rows. */
  all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Replaces this asset's table with the result of `select` (creating the schema if needed)
   * and returns the new row count.
   */
  replaceTable(select: string, params?: readonly SqlParam[]): Promise<number>;
  /**
   * Partitioned assets: replaces this step's partitions (the rows of its window, by the asset's
   * `partitionColumn`) with the rows of `select`, in the step's transaction. Returns rows inserted.
   */
  replacePartitions(select: string, params?: readonly SqlParam[]): Promise<number>;
  /**
   * Incremental assets: writes the rows of `select` into this asset's table by `uniqueKey`
   * (merge: matching rows are replaced, new ones inserted; or `append`, `delete+insert`), or
   * creates the table from them when there is none. Returns the rows inserted, updated, deleted.
   */
  merge(select: string, options?: MergeOptions): Promise<MergeResult>;
  /** The quoted, qualified table name of an asset key, e.g. `"staging"."orders"`. */
  tableOf(key: string): string;
}

/** The landing zone: a folder of files dropped by upstream systems. */
export interface LandingZone {
  /** Absolute path of the landing folder. */
  readonly dir: string;
  /** Absolute paths of files whose names match `pattern` (a glob on the file name), sorted. */
  list(pattern: string): Promise<string[]>;
  /** Absolute path of a file in the landing zone. */
  path(name: string): string;
}

/** A logger whose lines are appended to the run's event log. */
export interface StepLogger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * A Postgres resource of strata.json `"resources"`, as `observe(ctx)` sees it in
 * `ctx.resources.<name>`. Queries are canceled on the server when the run is canceled.
 */
export interface PostgresHandle {
  /** Runs `sql` on Postgres (parameters bind `$1`, `$2`, ...) and returns its rows: small results (counts, watermarks). */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** Where {@link PostgresStepHandle.extract} writes. */
export interface ExtractOptions {
  /**
   * A DuckDB table to write instead of the asset's own (a staging table to merge from). The
   * asset's own table is replaced like `replaceTable` (`replacePartitions` when partitioned).
   */
  readonly into?: string;
  /** Insert the rows (matching columns by name) instead of replacing the table. */
  readonly append?: boolean;
}

/** A Postgres resource as `materialize(ctx)` sees it: queries, and extraction into DuckDB. */
export interface PostgresStepHandle extends PostgresHandle {
  /**
   * Runs `select` on Postgres and streams its rows into DuckDB inside this step's transaction
   * (`COPY ... TO STDOUT` into a temp CSV file, read with Postgres's column types): a failed
   * check rolls it back. Returns the rows written.
   *
   * @example
   * materialize: async (ctx) => ({ rowCount: await ctx.resources.shop_db.extract('select * from public.orders') })
   */
  extract(select: string, options?: ExtractOptions): Promise<number>;
}

/** The context handed to `materialize(ctx)`. */
export interface AssetContext {
  readonly key: string;
  readonly runId: string;
  /** Quoted, qualified DuckDB table of this asset. */
  readonly table: string;
  /** Direct upstream asset keys. */
  readonly deps: readonly string[];
  /** The asset's `config` (empty when it has none). */
  readonly config: Readonly<Record<string, unknown>>;
  /** DuckDB, inside this step's transaction (opened on first use). */
  readonly warehouse: WarehouseSession;
  readonly landing: LandingZone;
  readonly log: StepLogger;
  /** Aborted when the run is canceled (Ctrl-C). */
  readonly signal: AbortSignal;
  /** The partitions this step writes; absent for an unpartitioned asset. */
  readonly partition?: StepPartitions;
  /** The resources of strata.json `"resources"` by name; an unknown name throws, listing the known ones. */
  readonly resources: Readonly<Record<string, PostgresStepHandle>>;
  /** Incremental assets: true when the table exists and this is no `--full-refresh`. */
  readonly isIncremental?: boolean;
  /**
   * Incremental assets with a watermark: its maximum in the table as DuckDB prints it (e.g.
   * `2025-01-03 00:00:00`; bind it as a parameter or quote it), `null` when there is none (first
   * build, full refresh).
   */
  readonly watermark?: string | null;
}

/** The partitions of one step: one key, or a range of consecutive keys (single-run backfills). */
export interface StepPartitions {
  /** The key, or `first..last` for a range. */
  readonly key: string;
  readonly keys: readonly string[];
  /** Local wall-clock bounds of the whole step, `YYYY-MM-DD HH:mm:ss` (time-window partitions). */
  readonly start?: string;
  readonly end?: string;
}

/** What `materialize` may return. */
export interface MaterializeResult {
  rowCount?: number;
  metadata?: Record<string, unknown>;
  /** A user-chosen data version; derived from code and input versions when absent. */
  dataVersion?: string;
}
