/**
 * `assets query`'s engine side: one read-only statement against the project's warehouse,
 * waiting while a run holds the file and naming the holder when it gives up. DuckDB-specific,
 * as the command is: it reads DuckDB's result stream with its column types to give exact JSON.
 */
import { existsSync } from 'node:fs';
import type { Json } from '@duckdb/node-api';
import { storageLocation, type ProjectConfig } from '../model/config/project-config.ts';
import { StrataError } from '../model/errors.ts';
import { formatDuration } from '../model/format/duration-text.js';
import { lockHolderPid, openWarehouseWhenFree } from '../../resources/warehouse-wait.ts';
import { rowObjects, runQuery } from '../../resources/warehouse-query.ts';
import { describeHolder } from './runs/run-notices.ts';

/** How to run an ad-hoc query. */
export interface AdHocQueryOptions {
  /** Rows to read at most. */
  readonly limit: number;
  /** How long to wait while another process holds the warehouse. */
  readonly waitMs: number;
  /** Told once when the warehouse is busy, with a sentence naming the holder. */
  readonly onWait: (message: string) => void;
}

/** The first rows of an ad-hoc query. */
export interface AdHocQueryResult {
  readonly columns: readonly string[];
  /** Each value as DuckDB's JSON conversion gives it (wide numbers and times as text). */
  readonly rows: readonly (readonly (Json | null)[])[];
  /** The result had more rows than `limit`. */
  readonly truncated: boolean;
  /** The rows as objects, numbers exact where a JSON number holds them, else text. */
  objects(): Record<string, Json | null>[];
}

/**
 * Runs `sql` on the project's warehouse opened read-only: a write is refused with DuckDB's
 * message (`query_failed`), a busy warehouse is waited for up to `waitMs` and then given up on
 * (`warehouse_locked`, naming the process and its run). A Postgres warehouse is refused
 * (`warehouse_not_duckdb`, a user error).
 */
export async function queryWarehouse(config: ProjectConfig, sql: string, options: AdHocQueryOptions): Promise<AdHocQueryResult> {
  if (config.warehouseUrl !== undefined) {
    throw new StrataError(
      'warehouse_not_duckdb',
      'assets query reads the DuckDB warehouse; this project\'s warehouse is Postgres ("warehouse" in strata.json or STRATA_WAREHOUSE): query it with psql or any Postgres client',
      {},
      true,
    );
  }
  const warehouse = await openReadOnly(config, options);
  try {
    const result = await runQuery(warehouse, sql, options.limit);
    return { columns: result.columns, rows: result.rows, truncated: result.truncated, objects: () => rowObjects(result) };
  } finally {
    warehouse.close();
  }
}

async function openReadOnly(config: ProjectConfig, options: AdHocQueryOptions) {
  const file = config.warehouseFile;
  const wait = formatDuration(options.waitMs);
  try {
    return await openWarehouseWhenFree(file, {
      ...config.warehouseSettings,
      readOnly: true,
      maxWaitMs: options.waitMs,
      maxDelayMs: 500,
      onBusy: async ({ pid }) => options.onWait(`waiting up to ${wait} for the warehouse ${file}: ${await holderOf(config, pid)} is using it`),
    });
  } catch (error) {
    if (!(error instanceof StrataError) || error.code !== 'warehouse_locked') throw error;
    const holder = await holderOf(config, lockHolderPid(error.message));
    throw new StrataError(
      'warehouse_locked',
      `the warehouse ${file} is in use by ${holder}; gave up after ${wait} (try again when it is done, or wait longer with --wait 2m)`,
      { file },
      false,
      { cause: error },
    );
  }
}

/** Names the process holding the warehouse, with its run when storage records one. */
async function holderOf(config: ProjectConfig, pid: number | undefined): Promise<string> {
  const location = storageLocation(config);
  if (pid === undefined || (location.kind === 'sqlite' && !existsSync(location.file))) return pid === undefined ? 'another process' : `process ${pid}`;
  const { openStorage } = await import('../../storage/index.ts');
  const storage = await openStorage(location);
  try {
    return await describeHolder(storage, pid);
  } finally {
    await storage.close();
  }
}
