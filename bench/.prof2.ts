import { SqliteStorage } from '../storage/index.ts';
import { daily } from '../core/partitions/index.ts';
import { buildProject } from '../core/project/project-loader.ts';
import { loadProjectConfig } from '../core/project/project-config.ts';
import { computeStaleness } from '../core/staleness/compute-staleness.ts';
import { layeredNoOpAssets } from './no-op-steps-bench.ts';
const DAYS = daily({ start: '2025-01-01', end: '2026-01-01', timezone: 'UTC' });
const NOW = new Date('2026-06-01T00:00:00Z');
async function main() {
  const config = loadProjectConfig('/tmp/sb');
  const project = buildProject(config, layeredNoOpAssets(10000, 100, { partitions: DAYS, codeVersion: 'v1' }));
  const storage = await SqliteStorage.open(config.storageFile);
  for (let k = 0; k < 3; k++) {
    let t = performance.now();
    const s = await storage.dataSummaries();
    const t1 = performance.now() - t;
    t = performance.now();
    const f = await storage.latestStepFailures();
    const t2 = performance.now() - t;
    t = performance.now();
    const r = await computeStaleness({ project, storage, now: NOW });
    console.log({ summaries: t1.toFixed(0), failures: t2.toFixed(0), compute: (performance.now() - t).toFixed(0), n: s.length, stale: r.stale.length, rss: process.memoryUsage().rss / 1e6 });
  }
}
await main();
