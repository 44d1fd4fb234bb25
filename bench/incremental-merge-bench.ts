import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun } from '../core/engine/execution/executor.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { loadProject } from '../core/engine/project/project-loader.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { SqliteStorage } from '../storage/index.ts';

/**
 * The incremental-merge workload: `raw/orders` holds N orders (default 10 M) with `updated_at`,
 * and the incremental asset `staging/orders` (merge by `order_id`, watermark `updated_at`) is
 * built from it once. Then, in each round, a different 1 % of the source's orders change (new
 * amount, newer `updated_at`, rewritten at the end of the table as a loader appends them; their
 * keys are spread over the whole key range), and the asset is built twice:
 *
 *  (a) incrementally: only the changed rows are read (by the watermark) and merged;
 *  (b) with `fullRefresh`: the table is rebuilt from the whole source.
 *
 * Both run in-process through the executor (one step each, with its events and materialization
 * records in SQLite) and end with a CHECKPOINT. After each round the table after (a) must equal
 * the one after (b) (row count and an order-independent checksum of every row), and the merge must
 * count exactly the changed rows as updated, or the benchmark throws. Rounds pair (a) and (b)
 * close in time, so their ratio holds up on a machine whose speed varies.
 */
export interface IncrementalFigures {
  readonly rows: number;
  readonly changed: number;
  readonly rounds: readonly IncrementalRound[];
  readonly digest: string;
  readonly peakRssMb: number;
}

/** One round: the merge (a) and the rebuild (b) after the same change. */
export interface IncrementalRound {
  readonly mergeMs: number;
  readonly rebuildMs: number;
  /** CPU time of the process (DuckDB's threads included). */
  readonly mergeCpuMs: number;
  readonly rebuildCpuMs: number;
  readonly merged: { readonly rowsInserted: number; readonly rowsUpdated: number };
}

const RAW = (rows: number, amount: string) => `-- description: N source orders, updated_at in order of order_id.
select range as order_id, range % 50000 as customer_id, ${amount} as amount,
  TIMESTAMP '2025-01-01' + to_seconds(range) as updated_at
from range(0, ${rows})
`;

const STAGING = (amount: string) => `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select order_id, customer_id, ${amount} as amount, updated_at from raw.orders where updated_at > {{ watermark }}
`;

/**
 * Runs the workload with `rows` source orders, `rounds` times (at most 90). `amountType` casts the
 * `amount` columns (default: DuckDB's type for the expressions, DECIMAL(21,1) in the source and
 * DECIMAL(31,1) in the asset, which DuckDB stores as 128-bit integers and reads slowly).
 */
export async function runIncrementalMerge(rows = 10_000_000, rounds = 3, amountType?: string): Promise<IncrementalFigures> {
  if (!(rounds >= 1 && rounds <= 90)) throw new Error(`rounds must be 1..90, got ${rounds}`);
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-incremental-'));
  try {
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'incremental-bench' }));
    mkdirSync(join(dir, 'defs/raw'), { recursive: true });
    mkdirSync(join(dir, 'defs/staging'), { recursive: true });
    const cast = (expression: string) => (amountType === undefined ? expression : `(${expression})::${amountType}`);
    writeFileSync(join(dir, 'defs/raw/orders.sql'), RAW(rows, cast('(range % 997) * 1.5')));
    writeFileSync(join(dir, 'defs/staging/orders.sql'), STAGING(cast('amount * 2')));
    const project = await loadProject(dir);
    const storage = await SqliteStorage.open(project.config.storageFile);
    const warehouse = await DuckDBWarehouse.open(project.config.warehouseFile, { fileSearchPath: dir });
    try {
      const run = async (keys: string[], fullRefresh = false) => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const result = await executeRun({
          project,
          plan: buildPlan(project.graph, keys),
          storage,
          warehouse,
          landing: new FileLandingZone(project.config.landingDir),
          selection: keys.join(','),
          fullRefresh,
        });
        if (result.status !== 'success')
          throw new Error(
            `bench run ended ${result.status}: ${result.steps
              .map((s) => s.error)
              .filter(Boolean)
              .join('; ')}`,
          );
        await warehouse.query('CHECKPOINT');
        const used = process.cpuUsage(cpu);
        return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
      };
      await run(['raw/orders', 'staging/orders']);
      const changed = Math.floor(rows / 100);
      const figures: IncrementalRound[] = [];
      let digestAfter = '';
      for (let round = 0; round < rounds; round++) {
        await changeOnePercent(warehouse, round);
        const merge = await run(['staging/orders']);
        const [latest] = await storage.latestMaterializations(['staging/orders']);
        const merged = { rowsInserted: Number(latest?.metadata.rowsInserted), rowsUpdated: Number(latest?.metadata.rowsUpdated) };
        const afterMerge = await digest(warehouse);
        const rebuild = await run(['staging/orders'], true);
        digestAfter = await digest(warehouse);
        if (afterMerge !== digestAfter) throw new Error(`round ${round + 1}: the merged table differs from the rebuilt one: ${afterMerge} vs ${digestAfter}`);
        if (merged.rowsUpdated !== changed || merged.rowsInserted !== 0)
          throw new Error(
            `round ${round + 1}: expected ${changed} updated rows and none inserted, the merge counted ${merged.rowsUpdated} / ${merged.rowsInserted}`,
          );
        figures.push({ mergeMs: merge.ms, rebuildMs: rebuild.ms, mergeCpuMs: merge.cpuMs, rebuildCpuMs: rebuild.cpuMs, merged });
      }
      return { rows, changed, rounds: figures, digest: digestAfter, peakRssMb: process.resourceUsage().maxRSS / 1024 };
    } finally {
      warehouse.close();
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Changes 1 % of the source's orders (`order_id % 100 = 7 + round`): deleted and appended again
 * with a new amount and an `updated_at` newer than any before.
 */
async function changeOnePercent(warehouse: DuckDBWarehouse, round: number): Promise<void> {
  const which = `order_id % 100 = ${7 + round}`;
  // One connection: the temporary table lives in it.
  await warehouse.withConnection((connection) =>
    connection.run(
      `CREATE TEMP TABLE changed AS SELECT order_id, customer_id, amount + 1 AS amount, TIMESTAMP '${2030 + round}-01-01' + to_seconds(order_id) AS updated_at FROM raw.orders WHERE ${which};
      DELETE FROM raw.orders WHERE ${which};
      INSERT INTO raw.orders SELECT * FROM changed;
      DROP TABLE changed;
      CHECKPOINT;`,
    ),
  );
}

/** Row count and an order-independent checksum of the asset's table. */
async function digest(warehouse: DuckDBWarehouse): Promise<string> {
  const [row] = await warehouse.query<{ n: number; h: string }>(
    'SELECT count(*) AS n, sum(hash(order_id, customer_id, amount, updated_at))::VARCHAR AS h FROM staging.orders',
  );
  return `${row?.n} rows, checksum ${row?.h}`;
}
