/**
 * The one place that chooses the warehouse implementation: the engine, the CLI and the UI open
 * the project's warehouse here and hold it as a {@link Warehouse}. A `postgres://` URL is a
 * Postgres database (postgres-warehouse.ts, loaded only then); anything else is DuckDB, the
 * embedded default (a file, or `:memory:`).
 */
import { isPostgresUrl } from '../core/model/config/storage-settings.ts';
import { DuckDBWarehouse } from './duckdb-warehouse.ts';
import type { Warehouse } from './warehouse.ts';
import { openOptionsOf, openWarehouseWhenFree, type WarehouseWaitOptions } from './warehouse-wait.ts';

/** How {@link openWarehouse} opens the warehouse. */
export interface OpenWarehouseOptions extends WarehouseWaitOptions {
  /** Wait (with backoff, abortable) while another process holds the warehouse (default), or fail at once (`false`). */
  readonly wait?: boolean;
}

/**
 * Opens the warehouse at `location` (a DuckDB file, created if needed unless `readOnly`, waiting
 * while another process holds it unless `wait` is false; or a `postgres://` URL, whose server
 * takes many writers: DuckDB's settings and waiting do not apply).
 *
 * @example
 * const warehouse = await openWarehouse(config.warehouseFile, { ...warehouseOpenOptions(config), signal });
 */
export async function openWarehouse(location: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  if (isPostgresUrl(location)) {
    const { PostgresWarehouse } = await import('./postgres-warehouse.ts');
    return PostgresWarehouse.open(location);
  }
  if (options.wait === false) return DuckDBWarehouse.open(location, openOptionsOf(options));
  return openWarehouseWhenFree(location, options);
}
