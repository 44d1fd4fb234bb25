import type { ProjectConfig } from '../model/config/project-config.ts';
import { warehouseOpenOptions } from '../model/config/project-config.ts';
import type { OpenWarehouseOptions } from '../../resources/open-warehouse.ts';
import type { Warehouse } from '../../resources/warehouse.ts';

/**
 * Opens a project's warehouse (its Postgres URL, or its DuckDB file and settings, relative paths in
 * SQL resolving against the project folder), waiting while another process holds it unless `options.wait` is false. The
 * one way the CLI, the daemon and the UI open it; the warehouse code loads on first call, so
 * commands that never open it do not pay for DuckDB.
 *
 * @example
 * const warehouse = await openProjectWarehouse(project.config, { signal, onBusy: ({ pid }) => say(`waiting for ${pid}`) });
 */
export async function openProjectWarehouse(config: ProjectConfig, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  const { openWarehouse } = await import('../../resources/open-warehouse.ts');
  return openWarehouse(config.warehouseUrl ?? config.warehouseFile, { ...warehouseOpenOptions(config), ...options });
}
