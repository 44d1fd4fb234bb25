import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProjectConfig, type ProjectConfig } from '../../core/project/project-config.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { SqliteStorage } from '../../storage/index.ts';

/** A temp project folder with its SQLite storage and DuckDB warehouse files open. */
export interface TempWorkspace {
  readonly dir: string;
  readonly config: ProjectConfig;
  readonly storage: SqliteStorage;
  readonly warehouse: DuckDBWarehouse;
  /** Closes both files and removes the folder. */
  close(): Promise<void>;
}

/**
 * Makes a temp project: `strata.json` from `settings`, then `files` (path → text), and opens
 * its storage and warehouse files. Tests call it in `beforeEach` and `close()` in `afterEach`.
 */
export async function openTempWorkspace(prefix: string, settings: Record<string, unknown>, files: Record<string, string> = {}): Promise<TempWorkspace> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'strata.json'), JSON.stringify(settings));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  const config = loadProjectConfig(dir);
  const storage = await SqliteStorage.open(config.storageFile);
  const warehouse = await DuckDBWarehouse.open(config.warehouseFile);
  return {
    dir,
    config,
    storage,
    warehouse,
    async close() {
      warehouse.close();
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
