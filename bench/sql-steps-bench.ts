import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { executeRun } from '../core/engine/execution/executor.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { loadProject } from '../core/engine/project/project-loader.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';

/** Figures of the SQL-steps pair. */
export interface SqlStepsFigures {
  readonly assets: number;
  /** (a) a bare loop of `BEGIN; create or replace table … as select 1; COMMIT` in DuckDB. */
  readonly bareMsPerStep: number;
  /** (b) Strata running the same tables as SQL assets, one step at a time. */
  readonly strataMsPerStep: number;
  /** (b) with the project's concurrency of 4. */
  readonly concurrentMsPerStep: number;
  readonly peakRssMb: number;
}

/**
 * A graph of `count` SQL assets, each `select 1 as x` into a table of its own, run (b) by Strata
 * one step at a time (SQLite storage, a DuckDB file) and (a) as a bare loop of the same
 * `create or replace table … as select 1` transactions on a DuckDB file in this process; each
 * measured twice, alternating, the faster kept.
 */
export async function runSqlSteps(count: number): Promise<SqlStepsFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-sql-'));
  try {
    mkdirSync(join(dir, 'defs', 'steps'), { recursive: true });
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'sql-steps', assets: 'defs', concurrency: 4 }));
    for (let i = 0; i < count; i++) writeFileSync(join(dir, 'defs', 'steps', `t_${String(i).padStart(5, '0')}.sql`), 'select 1 as x\n');
    const project = await loadProject(dir);
    const plan = buildPlan(project.graph, project.graph.keys);
    let round = 0;
    const strata = async (concurrency: number) => {
      round++;
      const storage = await SqliteStorage.open(join(dir, `strata-${round}.db`));
      const warehouse = await DuckDBWarehouse.open(join(dir, `strata-${round}.duckdb`));
      try {
        const started = performance.now();
        const result = await executeRun({ project, plan, storage, warehouse, landing: new FileLandingZone(dir), selection: '*', concurrency });
        if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.error}`);
        return (performance.now() - started) / count;
      } finally {
        warehouse.close();
        await storage.close();
      }
    };
    const bare = async () => {
      round++;
      const instance = await DuckDBInstance.create(join(dir, `bare-${round}.duckdb`));
      const connection = await instance.connect();
      try {
        await connection.run('create schema if not exists steps');
        const started = performance.now();
        for (let i = 0; i < count; i++) {
          await connection.run('begin transaction');
          await connection.run(`create or replace table steps.t_${String(i).padStart(5, '0')} as select 1 as x`);
          await connection.run('commit');
        }
        return (performance.now() - started) / count;
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    };
    const bareMs = [await bare(), 0];
    const strataMs = [await strata(1), 0];
    bareMs[1] = await bare();
    strataMs[1] = await strata(1);
    const concurrentMsPerStep = await strata(4);
    return {
      assets: count,
      bareMsPerStep: Math.min(...bareMs),
      strataMsPerStep: Math.min(...strataMs),
      concurrentMsPerStep,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
