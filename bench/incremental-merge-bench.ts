import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun } from '../core/execution/executor.ts';
import { buildPlan } from '../core/planning/plan.ts';
import { loadProject, type Project } from '../core/project/project-loader.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';

/**
 * The incremental-merge workload: `raw/orders` holds N orders (default 10 M) with `updated_at`,
 * and the incremental asset `staging/orders` (merge by `order_id`, watermark `updated_at`) is
 * built from it once. Then 1 % of the source's orders change (new amount, newer `updated_at`,
 * rewritten at the end of the table as a loader appends them), and the asset is built twice:
 *
 *  (a) incrementally: only the changed rows are read (by the watermark) and merged;
 *  (b) with `fullRefresh`: the table is rebuilt from the whole source.
 *
 * Both run in-process through the executor (one step each, with its events and materialization
 * records in SQLite) and end with a CHECKPOINT. The table after (a) must equal the one after (b)
 * (row count and an order-independent checksum of every row), or the benchmark throws.
 */
export interface IncrementalFigures {
  readonly rows: number;
  readonly changed: number;
  readonly mergeMs: number;
  readonly rebuildMs: number;
  readonly merged: { readonly rowsInserted: number; readonly rowsUpdated: number };
  readonly digest: string;
  readonly peakRssMb: number;
}

const RAW = (rows: number) => `-- description: N source orders, updated_at in order of order_id.
select range as order_id, range % 50000 as customer_id, (range % 997) * 1.5 as amount,
  TIMESTAMP '2025-01-01' + to_seconds(range) as updated_at
from range(0, ${rows})
`;

const STAGING = `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select order_id, customer_id, amount * 2 as amount, updated_at from raw.orders where updated_at > {{ watermark }}
`;

/** Runs the workload with `rows` source orders. */
export async function runIncrementalMerge(rows = 10_000_000): Promise<IncrementalFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-incremental-'));
  try {
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'incremental-bench' }));
    mkdirSync(join(dir, 'defs/raw'), { recursive: true });
    mkdirSync(join(dir, 'defs/staging'), { recursive: true });
    writeFileSync(join(dir, 'defs/raw/orders.sql'), RAW(rows));
    writeFileSync(join(dir, 'defs/staging/orders.sql'), STAGING);
    const project = await loadProject(dir);
    const storage = await SqliteStorage.open(project.config.storageFile);
    const warehouse = await DuckDBWarehouse.open(project.config.warehouseFile, { fileSearchPath: dir });
    try {
      const run = async (keys: string[], fullRefresh = false) => {
        const started = performance.now();
        const result = await executeRun({ project, plan: buildPlan(project.graph, keys), storage, warehouse, landing: new FileLandingZone(project.config.landingDir), selection: keys.join(','), fullRefresh });
        if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.steps.map((s) => s.error).filter(Boolean).join('; ')}`);
        await warehouse.query('CHECKPOINT');
        return performance.now() - started;
      };
      await run(['raw/orders', 'staging/orders']);
      // 1 % of the orders change: deleted and appended again with a new amount and a newer updated_at.
      const changed = Math.floor(rows / 100);
      const step = 100;
      await warehouse.query(`CREATE TEMP TABLE changed AS SELECT order_id, customer_id, amount + 1 AS amount, TIMESTAMP '2030-01-01' + to_seconds(order_id) AS updated_at FROM raw.orders WHERE order_id % ${step} = 7`);
      await warehouse.query(`DELETE FROM raw.orders WHERE order_id % ${step} = 7`);
      await warehouse.query('INSERT INTO raw.orders SELECT * FROM changed');
      await warehouse.query('CHECKPOINT');
      const mergeMs = await run(['staging/orders']);
      const [latest] = await storage.latestMaterializations(['staging/orders']);
      const merged = { rowsInserted: Number(latest?.metadata.rowsInserted), rowsUpdated: Number(latest?.metadata.rowsUpdated) };
      const afterMerge = await digest(warehouse);
      const rebuildMs = await run(['staging/orders'], true);
      const afterRebuild = await digest(warehouse);
      if (afterMerge !== afterRebuild) throw new Error(`the merged table differs from the rebuilt one: ${afterMerge} vs ${afterRebuild}`);
      if (merged.rowsUpdated !== changed) throw new Error(`expected ${changed} updated rows, the merge counted ${merged.rowsUpdated}`);
      return { rows, changed, mergeMs, rebuildMs, merged, digest: afterMerge, peakRssMb: process.resourceUsage().maxRSS / 1024 };
    } finally {
      warehouse.close();
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Row count and an order-independent checksum of the asset's table. */
async function digest(warehouse: DuckDBWarehouse): Promise<string> {
  const [row] = await warehouse.query<{ n: number; h: string }>('SELECT count(*) AS n, sum(hash(order_id, customer_id, amount, updated_at))::VARCHAR AS h FROM staging.orders');
  return `${row?.n} rows, checksum ${row?.h}`;
}
