/**
 * `npm run bench`: runs every benchmark workload and prints its figures beside the target.
 * Usage: npm run bench [-- no-op | sql-steps | cold-start (both CLI workloads) | stale-only | backfill [--profile] | staleness | large-plan | ui | pg-extract | queue [--runs N] [--steps N] [--profile] | incremental [--rows N] [--rounds N] [--amount-type T] | big-tsv | column-lineage | dbt-load | openlineage]
 */
import { measureFreshStaleOnly, measureListColdStart } from './cli-cold-start-bench.ts';
import { runNoOpSteps } from './no-op-steps-bench.ts';
import { runSqlSteps } from './sql-steps-bench.ts';
import { runPartitionedChain, type EngineFigures } from './partitioned-chain-bench.ts';
import { runIncrementalMerge } from './incremental-merge-bench.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LargePlanFigures } from './large-plan-bench.ts';
import type { StalenessFigures } from './staleness-bench.ts';
import { benchPostgresUrl, prepareSource, type PgExtractFigures } from './pg-extract-bench.ts';
import type { BigTsvFigures } from './big-tsv-bench.ts';
import { CHROMIUM, measureLineageApi, measureLineageRender } from './ui-bench.ts';
import { measureColumnLineage } from './column-lineage-bench.ts';
import { measureDbtLoad } from './dbt-load-bench.ts';
import { runOpenLineageOverhead } from './openlineage-bench.ts';

const only = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
const profile = process.argv.includes('--profile');

function row(name: string, figure: string, target: string, ok: boolean): void {
  console.log(`${name.padEnd(44)} ${figure.padStart(14)}   target ${target.padEnd(12)} ${ok ? 'ok' : 'MISSED'}`);
}

if (!only || only === 'no-op') {
  console.log('no-op TypeScript steps, one run, SQLite event log on (WAL), concurrency 4');
  for (const count of [1_000, 10_000]) {
    const f = await runNoOpSteps(count);
    if (f.status !== 'success') throw new Error(`bench run ended ${f.status}`);
    row(`  ${count.toLocaleString('en-US')} assets: ms per step`, f.msPerStep.toFixed(3), '≤ 0.15 ms', f.msPerStep <= 0.15);
    row(`  ${count.toLocaleString('en-US')} assets: CPU ms per step (all threads)`, f.cpuMsPerStep.toFixed(3), '-', true);
    row(
      `  ${count.toLocaleString('en-US')} assets: total`,
      `${(f.totalMs / 1000).toFixed(2)} s`,
      count === 10_000 ? '≤ 1.5 s' : '≤ 0.15 s',
      f.totalMs <= count * 0.15,
    );
    row(`  ${count.toLocaleString('en-US')} assets: peak RSS`, `${f.peakRssMb.toFixed(0)} MB`, '-', true);
  }
}

if (!only || only === 'sql-steps') {
  console.log('SQL steps: 1,000 `select 1` SQL assets, each its own table in a DuckDB file; best of 2, alternating');
  const f = await runSqlSteps(1_000);
  row('  (a) DuckDB: BEGIN; create or replace table … as select 1; COMMIT', `${f.bareMsPerStep.toFixed(2)} ms`, '-', true);
  row('  (b) Strata, one step at a time: ms per step', `${f.strataMsPerStep.toFixed(2)} ms`, '-', true);
  row('  (b) / (a)', `${(f.strataMsPerStep / f.bareMsPerStep).toFixed(2)}×`, '≤ 1.1×', f.strataMsPerStep <= 1.1 * f.bareMsPerStep);
  row('  (b) with concurrency 4: ms per step', `${f.concurrentMsPerStep.toFixed(2)} ms`, '-', true);
  row('  peak RSS', `${f.peakRssMb.toFixed(0)} MB`, '-', true);
}

if (!only || only === 'cold-start') {
  console.log('CLI cold start: `assets list` on the bundled example, fresh process each time, alternated with a bare `node -e 0`');
  const f = await measureListColdStart();
  row('  node -e 0: median of 9', `${f.nodeMedianMs.toFixed(0)} ms`, '-', true);
  row('  assets list: median of 9', `${f.medianMs.toFixed(0)} ms`, '≤ 150 ms', f.medianMs <= 150);
  row('  assets list / node -e 0', `${f.ratio.toFixed(2)}×`, '≤ 2.5×', f.ratio <= 2.5);
  row('  assets list: fastest', `${f.minMs.toFixed(0)} ms`, '-', true);
}

if (!only || only === 'cold-start' || only === 'stale-only') {
  console.log(
    "nothing to do: `assets materialize --select '*' --stale-only` on the fully materialized example, fresh process each time, alternated with a bare `node -e 0`",
  );
  const f = await measureFreshStaleOnly();
  row('  node -e 0: median of 7', `${f.nodeMedianMs.toFixed(0)} ms`, '-', true);
  row('  --stale-only, nothing stale: median of 7', `${f.medianMs.toFixed(0)} ms`, '≤ 300 ms', f.medianMs <= 300);
  row('  --stale-only / node -e 0', `${f.ratio.toFixed(2)}×`, '-', true);
  row('  --stale-only, nothing stale: fastest', `${f.minMs.toFixed(0)} ms`, '-', true);
  row('  materializing the example first (not timed above)', `${(f.buildMs / 1000).toFixed(1)} s`, '-', true);
}

if (!only || only === 'backfill') {
  console.log('partitioned chain: 3 daily SQL assets over a year of raw order lines; in-process, each time ends with a CHECKPOINT');
  const f = await runPartitionedChain({ profile, log: profile ? (line) => console.log(line) : undefined });
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  row('  raw rows (365 days, sorted by time)', f.rawRows.toLocaleString('en-US'), '≥ 10,000,000', f.rawRows >= 10_000_000);
  row('  (a) DuckDB, one CREATE TABLE AS per asset', seconds(f.baselineMs), '-', true);
  row('  (b) backfill, single-run policy (3 steps)', seconds(f.singleRun.ms), '-', true);
  row('  (b) / (a)', `${(f.singleRun.ms / f.baselineMs).toFixed(2)}×`, '≤ 1.2×', f.singleRun.ms <= 1.2 * f.baselineMs);
  row(`  (c) backfill per partition (${f.perPartition.steps.toLocaleString('en-US')} steps)`, seconds(f.perPartition.ms), '-', true);
  row('  (c) / (a)', `${(f.perPartition.ms / f.baselineMs).toFixed(2)}×`, '≤ 3.0×', f.perPartition.ms <= 3 * f.baselineMs);
  row('  CPU time (all threads) (b) / (a)', `${(f.singleRun.cpuMs / f.baselineCpuMs).toFixed(2)}×`, '-', true);
  row('  CPU time (all threads) (c) / (a)', `${(f.perPartition.cpuMs / f.baselineCpuMs).toFixed(2)}×`, '-', true);
  row(
    '  tables identical (rows + checksum)',
    Object.values(f.digests)
      .map((d) => d.rows.toLocaleString('en-US'))
      .join(' / '),
    '-',
    true,
  );
  row('  peak RSS', `${f.peakRssMb.toFixed(0)} MB`, '-', true);
  if (profile) {
    console.log(
      `  raw build ${seconds(f.rawBuildMs)}; (a) per statement: ${f.baselineStatementMs.map(seconds).join(', ')}, checkpoint ${seconds(f.baselineCheckpointMs)}`,
    );
    console.log(`  CPU time: (a) ${seconds(f.baselineCpuMs)}, (b) ${seconds(f.singleRun.cpuMs)}, (c) ${seconds(f.perPartition.cpuMs)}`);
    for (const [name, e] of [
      ['(b) single run', f.singleRun],
      ['(c) per partition', f.perPartition],
    ] as const)
      printProfile(name, e);
  }
}

function printProfile(name: string, e: EngineFigures): void {
  console.log(
    `  ${name}: project load ${e.loadMs.toFixed(0)} ms (not timed), plan ${e.profile?.planMs.toFixed(1)} ms, final checkpoint ${(e.checkpointMs / 1000).toFixed(2)} s; busy time (overlapping steps add up):`,
  );
  for (const [kind, table] of [
    ['DuckDB', e.profile?.duckdb],
    ['SQLite', e.profile?.storage],
  ] as const) {
    const entries = Object.entries(table ?? {}).sort((a, b) => b[1].ms - a[1].ms);
    const total = entries.reduce((sum, [, t]) => sum + t.ms, 0);
    console.log(`    ${kind} ${(total / 1000).toFixed(2)} s:`);
    for (const [k, t] of entries.slice(0, 10))
      console.log(`      ${k.padEnd(40)} ${(t.ms / 1000).toFixed(2).padStart(7)} s  ${String(t.calls).padStart(5)} calls`);
  }
}

if (!only || only === 'incremental') {
  const option = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
  const rows = option('--rows', 10_000_000);
  const rounds = option('--rounds', 3);
  console.log(
    `incremental merge: 1% changed rows merged into a ${rows.toLocaleString('en-US')}-row table vs rebuilding it (--full-refresh); in-process, each ends with a CHECKPOINT; ${rounds} rounds, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const amountType = process.argv.includes('--amount-type') ? process.argv[process.argv.indexOf('--amount-type') + 1] : undefined;
  if (amountType !== undefined) console.log(`  amount columns cast to ${amountType}`);
  const f = await runIncrementalMerge(rows, rounds, amountType);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const range = (values: number[], format: (v: number) => string) => `${format(Math.min(...values))}–${format(Math.max(...values))}`;
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
  const ratio = (v: number) => `${v.toFixed(3)}×`;
  const ratios = f.rounds.map((r) => r.mergeMs / r.rebuildMs);
  f.rounds.forEach((r, i) =>
    console.log(
      `  round ${i + 1}: (a) ${seconds(r.mergeMs)} (CPU ${seconds(r.mergeCpuMs)}), (b) ${seconds(r.rebuildMs)} (CPU ${seconds(r.rebuildCpuMs)}), (a)/(b) ${ratio(r.mergeMs / r.rebuildMs)}`,
    ),
  );
  row(
    '  (a) incremental merge',
    range(
      f.rounds.map((r) => r.mergeMs),
      seconds,
    ),
    '-',
    true,
  );
  row(
    '  (b) rebuild (--full-refresh)',
    range(
      f.rounds.map((r) => r.rebuildMs),
      seconds,
    ),
    '-',
    true,
  );
  // Judged on the median round: load on a shared machine slows the long rebuild more than the short merge.
  const cpuRatios = f.rounds.map((r) => r.mergeCpuMs / r.rebuildCpuMs);
  row('  (a) / (b), median round', ratio(median(ratios)), '≤ 0.1×', median(ratios) <= 0.1);
  row('  (a) / (b), every round', range(ratios, ratio), '-', true);
  row('  (a) / (b) in CPU time, median / every', `${ratio(median(cpuRatios))} / ${range(cpuRatios, ratio)}`, '-', true);
  row('  rows updated / inserted by each merge', `${f.changed.toLocaleString('en-US')} / 0`, '-', true);
  row('  tables identical (rows + checksum)', f.digest.split(',')[0] ?? '', '-', true);
  row('  peak RSS', `${f.peakRssMb.toFixed(0)} MB`, '-', true);
  console.log(`  load average afterwards ${loadavg()[0]?.toFixed(1)}`);
}

if (!only || only === 'staleness') {
  console.log('staleness: 10,000 daily assets × 365 partitions, a year of history in SQLite, one upstream partition changed');
  // In a process of its own, so its peak RSS is the staleness pass's, not the other workloads'.
  const child = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(new URL('./staleness-bench.ts', import.meta.url)), '--json'], {
    encoding: 'utf8',
  });
  const f = JSON.parse(child) as StalenessFigures;
  row('  asset partitions judged', f.partitions.toLocaleString('en-US'), '3,650,000', f.partitions >= 3_650_000);
  row('  history rows (materializations)', f.historyRows.toLocaleString('en-US'), '-', true);
  row('  one upstream changed: staleness', `${(f.staleness.ms / 1000).toFixed(2)} s`, '≤ 2 s', f.staleness.ms <= 2000);
  row('  stale partitions found = downstream of it', `${f.staleness.stale} = ${f.staleness.expected}`, 'exact', f.staleness.correct);
  row('  nothing changed: staleness', `${(f.fresh.ms / 1000).toFixed(2)} s (${f.fresh.stale} stale)`, '-', f.fresh.stale === 0);
  row('  peak RSS (bench process: load, staleness twice)', `${f.peakRssMb.toFixed(0)} MB`, '≤ 1 GB', f.peakRssMb <= 1024);
  row('  generating the history (not timed above)', `${(f.generateMs / 1000).toFixed(1)} s`, '-', true);

  const url = benchPostgresUrl();
  if (url === undefined) console.log('staleness on Postgres storage: skipped (set STRATA_BENCH_POSTGRES_URL, or run inside tests/postgres-cluster.sh)');
  else {
    console.log('staleness on Postgres storage: the same workload, its history in a Postgres schema');
    const script = fileURLToPath(new URL('./staleness-bench.ts', import.meta.url));
    const pg = JSON.parse(execFileSync(process.execPath, [...process.execArgv, script, '--json', '--postgres'], { encoding: 'utf8' })) as StalenessFigures;
    row('  one upstream changed: staleness', `${(pg.staleness.ms / 1000).toFixed(2)} s`, '≤ 3 s', pg.staleness.ms <= 3000);
    row('  stale partitions found = downstream of it', `${pg.staleness.stale} = ${pg.staleness.expected}`, 'exact', pg.staleness.correct);
    row('  nothing changed: staleness', `${(pg.fresh.ms / 1000).toFixed(2)} s (${pg.fresh.stale} stale)`, '-', pg.fresh.stale === 0);
    row('  peak RSS (bench process)', `${pg.peakRssMb.toFixed(0)} MB`, '≤ 1 GB', pg.peakRssMb <= 1024);
    row('  generating the history (not timed above)', `${(pg.generateMs / 1000).toFixed(1)} s`, '-', true);
  }
}

if (!only || only === 'column-lineage') {
  console.log(`column lineage of the bundled example, each in a fresh process; median of 5 (load average ${loadavg()[0]?.toFixed(1)})`);
  const f = measureColumnLineage(5);
  row("  importing DuckDB's module (once per process)", `${f.duckdbImportMs.toFixed(0)} ms`, '-', true);
  row(`  cold: new DuckDB, ${f.sqlAssets} SQL assets parsed and traced`, `${f.coldMs.toFixed(0)} ms`, '≤ 100 ms', f.coldMs <= 100);
  row('  cold: CPU time (all threads)', `${f.coldCpuMs.toFixed(0)} ms`, '-', true);
  row('  warm: from the cache by SQL hash', `${f.warmMs.toFixed(1)} ms`, '-', true);
  row('  output columns traced to upstream columns', String(f.tracedColumns), '-', true);
}

if (!only || only === 'dbt-load') {
  console.log(`loading a generated dbt project (macros, folder configs, 2 tests per model) (load average ${loadavg()[0]?.toFixed(1)})`);
  const f = await measureDbtLoad(500);
  row(`  ${f.models} models: cold (no cache in .strata/)`, `${(f.coldMs / 1000).toFixed(2)} s`, '≤ 1.5 s', f.coldMs <= 1500);
  row(`  ${f.models} models: cold, CPU time (all threads)`, `${(f.coldCpuMs / 1000).toFixed(2)} s`, '-', true);
  row(`  ${f.models} models: warm (caches present, best of 3)`, `${(f.warmMs / 1000).toFixed(2)} s`, '≤ 0.5 s', f.warmMs <= 500);
  row(`  ${f.models} models: warm in a new process (best of 3)`, `${(f.warmProcessMs / 1000).toFixed(2)} s`, '≤ 0.5 s', f.warmProcessMs <= 500);
}

if (!only || only === 'large-plan') {
  console.log('a plan of 1,000,000 steps: 5 chained hourly assets × 200,000 hours since 2000, one step per partition');
  // In a process of its own (with --expose-gc for the heap figure), so its peak RSS is the plan's.
  const script = fileURLToPath(new URL('./large-plan-bench.ts', import.meta.url));
  const child = execFileSync(process.execPath, [...process.execArgv, '--expose-gc', script, '--json'], { encoding: 'utf8' });
  const f = JSON.parse(child) as LargePlanFigures;
  row('  steps planned (partitions)', `${f.steps.toLocaleString('en-US')} (${f.partitions.toLocaleString('en-US')})`, '1,000,000', f.steps >= 1_000_000);
  row('  planning time', `${(f.planMs / 1000).toFixed(2)} s`, '≤ 5 s', f.planMs <= 5000);
  row('  planning CPU time (incl. GC threads)', `${(f.planCpuMs / 1000).toFixed(2)} s`, '-', true);
  row('  heap with the plan alive (after GC)', `${f.heapMb.toFixed(0)} MB`, '-', true);
  row('  peak RSS (bench process)', `${f.peakRssMb.toFixed(0)} MB`, '≤ 1.5 GB', f.peakRssMb <= 1536);
  row('  most steps one step waits for', String(f.maxWaits), '2', f.maxWaits === 2);
}

if (!only || only === 'ui') {
  console.log('web UI: a layered graph of materialized no-op assets (100 per layer, up to 3 parents each), served on loopback');
  const api = await measureLineageApi(10_000);
  row(
    `  ${api.assets.toLocaleString('en-US')} assets, ${api.edges.toLocaleString('en-US')} edges: GET /api/lineage/KEY`,
    `${api.lineage.medianMs.toFixed(0)} ms`,
    '≤ 300 ms',
    api.lineage.medianMs <= 300,
  );
  row(`  (middle asset, both ways, every level: ${api.lineageNodes.toLocaleString('en-US')} nodes)`, `fastest ${api.lineage.minMs.toFixed(0)} ms`, '-', true);
  row('  GET /api/assets (whole graph with states), first', `${api.assetList.firstMs.toFixed(0)} ms`, '-', true);
  row('  GET /api/assets again, storage unchanged (cached)', `${api.assetList.medianMs.toFixed(0)} ms`, '-', true);
  const render = await measureLineageRender(1_000);
  if (!render) console.log(`  first render of the lineage page: skipped, ${CHROMIUM} is not installed (apt-get install -y chromium)`);
  else {
    row(
      `  ${render.assets.toLocaleString('en-US')} assets: lineage page first render (median of 5)`,
      `${(render.medianMs / 1000).toFixed(2)} s`,
      '≤ 2 s',
      render.medianMs <= 2000,
    );
    row('  nodes drawn', render.nodes.toLocaleString('en-US'), render.assets.toLocaleString('en-US'), render.nodes === render.assets);
  }
}

if (!only || only === 'pg-extract') {
  const rows = Number(process.env.STRATA_BENCH_PG_ROWS ?? 5_000_000);
  console.log(`Postgres extraction: ${rows.toLocaleString('en-US')} rows (6 columns) into a DuckDB file; each way in a process of its own, best of 2`);
  const url = benchPostgresUrl();
  if (!url) console.log('  skipped: no Postgres (set STRATA_BENCH_POSTGRES_URL, or: tests/postgres-cluster.sh run -- npm run bench -- pg-extract)');
  else {
    await prepareSource(url, rows);
    const script = fileURLToPath(new URL('./pg-extract-bench.ts', import.meta.url));
    const measure = (mode: string) =>
      JSON.parse(execFileSync(process.execPath, [...process.execArgv, script, '--mode', mode, '--json'], { encoding: 'utf8' })) as PgExtractFigures;
    // Twice each, alternating, the faster kept: the first pass also warms Postgres's cache, and this machine is shared.
    const fastest = (a: PgExtractFigures, b: PgExtractFigures) => (a.ms <= b.ms ? a : b);
    const [baseline1, strata1, baseline2, strata2] = ['baseline', 'strata', 'baseline', 'strata'].map(measure) as PgExtractFigures[];
    const baseline = fastest(baseline1 as PgExtractFigures, baseline2 as PgExtractFigures);
    const strata = fastest(strata1 as PgExtractFigures, strata2 as PgExtractFigures);
    const perSecond = (f: PgExtractFigures) => `${Math.round(f.rows / (f.ms / 1000)).toLocaleString('en-US')} rows/s`;
    row('  (a) COPY TO STDOUT > CSV, DuckDB read_csv', perSecond(baseline), '-', true);
    row('  (b) Strata run, ctx.resources.db.extract()', perSecond(strata), '-', strata.rows === baseline.rows);
    row('  (b) / (a) throughput', `${(baseline.ms / strata.ms).toFixed(2)}×`, '≥ 0.8×', baseline.ms / strata.ms >= 0.8);
    row('  peak RSS (a) / (b)', `${baseline.peakRssMb.toFixed(0)} / ${strata.peakRssMb.toFixed(0)} MB`, '-', true);
  }
}

if (!only || only === 'queue') {
  const option = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
  const steps = option('--steps', 1);
  const runs = option('--runs', 300);
  console.log(
    `run queue on Postgres storage: real \`assets worker\` processes, a Postgres warehouse, runs of ${steps} no-op TypeScript step${steps === 1 ? '' : 's'}; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const url = benchPostgresUrl();
  if (!url) console.log('  skipped: no Postgres (set STRATA_BENCH_POSTGRES_URL, or: tests/postgres-cluster.sh run -- npm run bench -- queue)');
  else {
    const { buildIsCurrent } = (await import('../bin/engine-build.js')) as { buildIsCurrent: () => Promise<boolean> };
    if (!(await buildIsCurrent())) console.log('  the engine build is not current: the workers run from source (npm run build first)');
    const { runQueueBench } = await import('./queue-bench.ts');
    const profileDir = profile ? mkdtempSync(join(tmpdir(), 'strata-queue-profile-')) : undefined;
    const f = await runQueueBench({ url, runs, steps, log: (line) => console.log(line), ...(profileDir ? { profileDir } : {}) });
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const { toClaim, toRunStart } = f.latency;
    console.log(`  (a) ${f.latency.runs} runs queued one at a time to ${f.latency.workers} idle workers (enqueue committed → claimed)`);
    row('  queued → claimed: p50 / max', `${ms(toClaim.p50)} / ${ms(toClaim.max)}`, '-', true);
    row('  queued → claimed: p95', ms(toClaim.p95), '≤ 50 ms', toClaim.p95 <= 50);
    row('  queued → run_start event: p50 / p95 / max', `${ms(toRunStart.p50)} / ${ms(toRunStart.p95)} / ${ms(toRunStart.max)}`, '-', true);
    console.log(`  (b) ${runs} queued runs drained (first claim → last end); CPU and mean ms per run`);
    for (const t of f.throughput) {
      const label = `${t.workers} worker${t.workers === 1 ? '' : 's'}`;
      row(`  ${label}: runs/s (steps/s)`, `${t.runsPerSecond.toFixed(1)} (${t.stepsPerSecond.toFixed(1)})`, '-', true);
      const server = t.postgresCpuMsPerRun === undefined ? 'n/a' : t.postgresCpuMsPerRun.toFixed(1);
      row(`  ${label}: CPU per run workers / Postgres`, `${t.workerCpuMsPerRun.toFixed(1)} / ${server} ms`, '-', true);
      row(`  ${label}: claim→start / start→end / next claim`, `${t.startMs.toFixed(1)} / ${t.executeMs.toFixed(1)} / ${t.gapMs.toFixed(1)}`, '-', true);
    }
    row('  one claim / one enqueue (this process)', `${f.claimMs.toFixed(2)} / ${f.enqueueMs.toFixed(2)} ms`, '-', true);
    if (profileDir) {
      const { summarizeProfiles } = await import('./cpu-profile-summary.ts');
      const p = summarizeProfiles(profileDir);
      console.log(`  the 1-worker round's worker, CPU profile (start to stop, ${(p.totalMs / 1000).toFixed(2)} s of CPU; files in ${profileDir}):`);
      for (const [area, ms] of p.areas.slice(0, 12))
        console.log(`    ${area.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / p.totalMs).toFixed(1).padStart(5)} %`);
      console.log('    top functions (self time):');
      for (const [name, ms] of p.functions) console.log(`      ${name.slice(0, 90).padEnd(90)} ${ms.toFixed(0).padStart(6)} ms`);
    }
    console.log(`  load average afterwards ${loadavg()[0]?.toFixed(1)}`);
  }
}

if (!only || only === 'big-tsv') {
  const sizeMb = Number(process.env.STRATA_BENCH_TSV_MB ?? 1536);
  const memory = process.env.STRATA_BENCH_MEMORY ?? '512MB';
  console.log(
    `a TSV larger than the memory limit (${sizeMb.toLocaleString('en-US')} MB generated, memoryLimit ${memory}, 2 threads): read_csv into a table, each load in a process of its own`,
  );
  // The loads run in child processes of their own, so each peak RSS is that load's.
  const script = fileURLToPath(new URL('./big-tsv-bench.ts', import.meta.url));
  const f = JSON.parse(execFileSync(process.execPath, [...process.execArgv, script, '--json'], { encoding: 'utf8' })) as BigTsvFigures;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  row('  file (rows)', `${f.fileMb.toFixed(0)} MB (${f.rows.toLocaleString('en-US')})`, '> memory', true);
  // Rounds alternate (a) and (b); each round's ratio is its own, with the load average each load started at.
  f.rounds.forEach(({ duckdb, strata }, i) => {
    const load = `load ${duckdb.loadAverage.toFixed(1)} / ${strata.loadAverage.toFixed(1)}`;
    row(`  round ${i + 1}: (a) DuckDB / (b) Strata`, `${seconds(duckdb.ms)} / ${seconds(strata.ms)} (${load})`, '-', strata.rows === duckdb.rows);
    row(
      `  round ${i + 1}: (b) / (a), wall (CPU)`,
      `${(strata.ms / duckdb.ms).toFixed(2)}× (${(strata.cpuMs / duckdb.cpuMs).toFixed(2)}×)`,
      '≤ 1.2×',
      strata.ms <= 1.2 * duckdb.ms,
    );
  });
  const peak = (pick: (r: (typeof f.rounds)[number]) => number) => Math.max(...f.rounds.map(pick));
  row('  peak RSS (a) DuckDB process', `${peak((r) => r.duckdb.peakRssMb).toFixed(0)} MB`, '-', true);
  row('  peak RSS (b) Strata process', `${peak((r) => r.strata.peakRssMb).toFixed(0)} MB`, '< 2 GB', peak((r) => r.strata.peakRssMb) < 2048);
  f.rounds.forEach(({ strata }, i) => {
    const first = strata.firstProgressMs === null ? 'none' : `the first after ${seconds(strata.firstProgressMs)}`;
    row(
      `  round ${i + 1}: step_progress events (highest %)`,
      `${strata.progressEvents} (${strata.maxPercentage.toFixed(0)}%), ${first}`,
      '≥ 1',
      strata.progressEvents >= 1,
    );
  });
  row('  generating the file (not timed above)', process.env.STRATA_BENCH_TSV_FILE ? 'reused' : seconds(f.generateMs), '-', true);
}

if (!only || only === 'openlineage') {
  const f = await runOpenLineageOverhead();
  console.log(
    `OpenLineage: a chain of ${f.steps} SQL assets, one step at a time, DuckDB file + SQLite storage, in one process; DuckDB on one thread; 9 rounds, each variant's turn in a round rotating (load average ${loadavg()[0]?.toFixed(1)})`,
  );
  if (f.received !== 2 * f.steps || f.kept !== 2 * f.steps) throw new Error(`expected ${2 * f.steps} events, got ${f.received} sent and ${f.kept} kept`);
  row('  without OpenLineage: ms per step (fastest round)', `${f.noneMsPerStep.toFixed(2)} ms`, '-', true);
  row('  live local receiver: added ms per step (median of rounds)', `${f.liveAddedMs.toFixed(3)} ms`, '≤ 1 ms', f.liveAddedMs <= 1);
  row('  live local receiver / without (fastest rounds)', `${(f.liveMsPerStep / f.noneMsPerStep).toFixed(3)}×`, '-', true);
  row('  receiver down (kept on disk): added ms/step (median)', `${f.downAddedMs.toFixed(3)} ms`, '≤ 1 ms', f.downAddedMs <= 1);
  row('  receiver down / without (fastest rounds)', `${(f.downMsPerStep / f.noneMsPerStep).toFixed(3)}×`, '-', true);
  const cpu = f.cpuMsPerStep;
  row(
    '  CPU ms per step (all threads, flush included): without, live, down',
    `${cpu.none.toFixed(2)}, ${cpu.live.toFixed(2)}, ${cpu.down.toFixed(2)}`,
    '-',
    true,
  );
  const main = f.mainCpuMsPerStep;
  row(
    '  main thread CPU ms per step (flush excluded): without, live, down',
    `${main.none.toFixed(2)}, ${main.live.toFixed(2)}, ${main.down.toFixed(2)}`,
    '-',
    true,
  );
  row('  flush after the run: live, down', `${f.liveFlushMs.toFixed(0)}, ${f.downFlushMs.toFixed(0)} ms`, '-', true);
}
