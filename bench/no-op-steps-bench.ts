import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asset, type AssetDefinition, type AssetOptions } from '../core/model/definitions/asset-spec.ts';
import { executeRun } from '../core/engine/execution/executor.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { buildProject } from '../core/model/project.ts';
import type { ProjectConfig } from '../core/model/config/project-config.ts';
import { NO_RETRIES } from '../core/model/definitions/retry-policy.ts';
import { DEFAULT_HEARTBEAT } from '../core/model/config/heartbeat-settings.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';

/** Figures of one no-op run. */
export interface NoOpStepsFigures {
  readonly assets: number;
  readonly totalMs: number;
  readonly msPerStep: number;
  /** CPU time of the process (every thread) per step: less sensitive than wall time to a busy machine. */
  readonly cpuMsPerStep: number;
  readonly peakRssMb: number;
  readonly status: string;
}

/**
 * A layered graph of `count` no-op TypeScript assets (100 per layer, each reading up to three
 * assets of the layer before), materialized in one run with the SQLite event log on. `extra`
 * adds options to every asset (partitions, say).
 */
export function layeredNoOpAssets(count: number, width = 100, extra: Partial<Omit<AssetOptions, 'key' | 'deps' | 'materialize'>> = {}): AssetDefinition[] {
  const keyOf = (i: number) => `layer_${String(Math.floor(i / width)).padStart(3, '0')}/asset_${String(i % width).padStart(5, '0')}`;
  return Array.from({ length: count }, (_, i) => {
    const layer = Math.floor(i / width);
    const deps = layer === 0 ? [] : [...new Set([0, 7, 31].map((offset) => (layer - 1) * width + ((i + offset) % width)))].map(keyOf);
    return asset({ ...extra, key: keyOf(i), deps, materialize: () => undefined });
  });
}

/** Runs the workload once in a fresh temp folder and returns its figures. */
export async function runNoOpSteps(count: number): Promise<NoOpStepsFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const config: ProjectConfig = {
    name: 'bench',
    dir,
    assetsDir: dir,
    landingDir: dir,
    storageFile: join(dir, 'strata.db'),
    warehouseFile: ':memory:',
    concurrency: 4,
    retries: NO_RETRIES,
    heartbeat: DEFAULT_HEARTBEAT,
  };
  const storage = await SqliteStorage.open(config.storageFile);
  const warehouse = await DuckDBWarehouse.open(':memory:');
  try {
    const project = buildProject(config, layeredNoOpAssets(count));
    const plan = buildPlan(project.graph, project.graph.keys);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = await executeRun({ project, plan, storage, warehouse, landing: new FileLandingZone(dir), selection: '*' });
    const totalMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      assets: count,
      totalMs,
      msPerStep: totalMs / count,
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / count,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      status: result.status,
    };
  } finally {
    warehouse.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
