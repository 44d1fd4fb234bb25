import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSpec, makeDefinition, type AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import { executeRun, type ExecuteRunOptions, type RunResult } from '../../core/engine/execution/executor.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { warehouseOpenOptions, type ProjectConfig } from '../../core/model/config/project-config.ts';
import type { Project } from '../../core/model/project.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { SqliteStorage } from '../../storage/index.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import type { RunObserver } from '../../core/engine/runs/run-observers.ts';

/** A temp project folder with its SQLite storage and DuckDB warehouse files open. */
export interface TempWorkspace {
  readonly dir: string;
  readonly config: ProjectConfig;
  readonly storage: SqliteStorage;
  readonly warehouse: DuckDBWarehouse;
  /** Runs `keys` of `project` (all by default) against this workspace's files. */
  run(project: Project, keys?: readonly string[], extra?: Partial<ExecuteRunOptions>): Promise<RunResult>;
  /** Closes both files and removes the folder. */
  close(): Promise<void>;
}

/** A SQL table asset built in code (the loader would infer `deps` from the SQL). */
export function sqlAsset(key: string, sql: string, deps: readonly string[], materialization: 'table' | 'view' = 'table'): AssetDefinition {
  return makeDefinition(buildSpec(key, { deps: [...deps], tags: {}, owners: [] }, 'sql'), { type: 'sql', sql, materialization });
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
  const warehouse = await DuckDBWarehouse.open(config.warehouseFile, warehouseOpenOptions(config));
  return {
    dir,
    config,
    storage,
    warehouse,
    run: (project, keys = project.graph.keys, extra = {}) =>
      executeRun({
        project,
        plan: buildPlan(project.graph, keys),
        storage,
        warehouse,
        landing: new FileLandingZone(config.landingDir),
        selection: keys.join(','),
        ...extra,
      }),
    async close() {
      warehouse.close();
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A materialization's metadata without the schema history every write records (`schema`,
 * `schemaChange`: see schema-history.test.ts), for tests about what else a write recorded.
 */
export function withoutSchema(metadata: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const { schema: _schema, schemaChange: _change, ...rest } = metadata ?? {};
  return rest;
}

/** An asset daemon of `project` on the workspace's storage, warehouse and landing zone (30 s ticks, one run at a time), telling `observers`. */
export function workspaceDaemon(workspace: TempWorkspace, project: Project, observers: readonly RunObserver[]): AssetDaemon {
  return new AssetDaemon({
    project,
    storage: workspace.storage,
    warehouse: workspace.warehouse,
    landing: new FileLandingZone(workspace.config.landingDir),
    settings: { tickSeconds: 30, maxConcurrentRuns: 1, pools: {} },
    observers,
  });
}
