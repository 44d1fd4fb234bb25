/**
 * The one place that chooses the warehouse implementation: the engine, the CLI and the UI open
 * the project's warehouse here and hold it as a {@link Warehouse}. Today that is DuckDB, the
 * embedded warehouse (a file, or `:memory:`).
 */
import { DuckDBWarehouse } from './duckdb-warehouse.ts';
import type { Warehouse } from './warehouse.ts';
import { openOptionsOf, openWarehouseWhenFree, type WarehouseWaitOptions } from './warehouse-wait.ts';

/** How {@link openWarehouse} opens the warehouse. */
export interface OpenWarehouseOptions extends WarehouseWaitOptions {
  /** Wait (with backoff, abortable) while another process holds the warehouse (default), or fail at once (`false`). */
  readonly wait?: boolean;
}

/**
 * Opens the warehouse at `location` (creating it if needed, unless `readOnly`), waiting while
 * another process holds it unless `wait` is false.
 *
 * @example
 * const warehouse = await openWarehouse(config.warehouseFile, { ...warehouseOpenOptions(config), signal });
 */
export function openWarehouse(location: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  if (options.wait === false) return DuckDBWarehouse.open(location, openOptionsOf(options));
  return openWarehouseWhenFree(location, options);
}
