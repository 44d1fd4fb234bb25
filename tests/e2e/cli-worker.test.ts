/**
 * Queued runs and `assets worker`, as real CLI processes: on SQLite storage `--queue` and the
 * worker are refused (exit 2, nothing written); on Postgres storage (the test cluster) runs
 * queued with `assets materialize --queue` stay queued until two workers started at once drain
 * the queue: every run is claimed by exactly one worker and succeeds, every asset partition is
 * materialized exactly once, and no run is left queued or running and no lease held. The
 * warehouse is the project's DuckDB file, so the workers take turns writing it. SIGTERM stops
 * a worker's claiming and lets its run finish. With `"queue": true` the daemon and materialize
 * queue their runs with their pools, and `worker --pools` claims only the runs of its pools.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { parseJson, queryDuckDb, runCli, Sandbox, stackFrames, startCli, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();
const REGIONS = ['eu', 'us', 'apac', 'latam', 'mea', 'anz'];

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

function files(storage?: string): Record<string, string> {
  return {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name: 'worker-e2e', ...(storage === undefined ? {} : { storage }) }),
    'defs/raw/sales.sql': [
      `-- partitioned_by: static(${REGIONS.join(', ')})`,
      '-- partition_column: region',
      'select {{ partition_key }} as region, i as n from range(0, 5) t(i)',
    ].join('\n'),
    'defs/marts/totals.sql': [
      `-- partitioned_by: static(${REGIONS.join(', ')})`,
      '-- partition_column: region',
      'select region, sum(n) as total from raw.sales where region = {{ partition_key }} group by region',
    ].join('\n'),
  };
}

/** Empties the runs (and what hangs off them) of earlier tests, when an earlier test has created the tables: each test can run alone. */
async function emptyRuns(schema: string): Promise<void> {
  await onPostgres(`DO $$ BEGIN IF to_regclass('${schema}.runs') IS NOT NULL THEN TRUNCATE ${schema}.runs CASCADE; END IF; END $$`);
}
describe('queued runs on SQLite storage exit 2', () => {
  it('refuses materialize --queue and assets worker, naming the reason, and writes nothing', () => {
    const project = sandbox.writeProject('worker-sqlite', files());
    const queued = runCli(['materialize', '--select', '*', '--queue', '--project', project]);
    expect(queued.status, queued.stderr).toBe(2);
    expect(queued.stderr).toContain('--queue needs Postgres storage');
    expect(queued.stderr).toContain('single-host');
    const worker = runCli(['worker', '--once', '--project', project]);
    expect(worker.status, worker.stderr).toBe(2);
    expect(worker.stderr).toContain('assets worker needs Postgres storage');
    expect(worker.stderr).toContain('is single-host');
    expect(stackFrames(queued.stderr + worker.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });
});

describe('queueing from the daemon, the UI and strata.json on SQLite storage exits 2', () => {
  it('refuses daemon --queue and ui --queue, naming the reason, and writes nothing', () => {
    const project = sandbox.writeProject('queue-daemon-sqlite', files());
    for (const args of [
      ['daemon', '--once', '--queue'],
      ['daemon', '--queue'],
      ['ui', '--queue', '--port', '0'],
    ]) {
      const result = runCli([...args, '--project', project]);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('--queue needs Postgres storage');
      expect(result.stderr).toContain('single-host');
      expect(stackFrames(result.stderr)).toEqual([]);
    }
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('"queue": true in strata.json makes queueing the default (refused on SQLite, naming strata.json); --no-queue runs here', () => {
    const project = sandbox.writeProject('queue-config-sqlite', { ...files(), 'strata.json': JSON.stringify({ name: 'queue-config', queue: true }) });
    const daemon = runCli(['daemon', '--once', '--project', project]);
    expect(daemon.status, daemon.stderr).toBe(2);
    expect(daemon.stderr).toContain('"queue": true in strata.json needs Postgres storage');
    expect(daemon.stderr).toContain('--no-queue');
    const backfill = runCli(['backfill', '--select', '*', '--from', 'eu', '--to', 'us', '--project', project]);
    expect(backfill.status, backfill.stderr).toBe(2);
    expect(backfill.stderr).toContain('"queue": true in strata.json needs Postgres storage');
    const both = runCli(['materialize', '--select', '*', '--queue', '--no-queue', '--project', project]);
    expect(both.status, both.stderr).toBe(2);
    expect(both.stderr).toContain('--queue and --no-queue contradict each other');
    const here = runCli(['materialize', '--select', '*', '--no-queue', '--json', '--project', project]);
    expect(here.status, here.stderr).toBe(0);
    expect(parseJson<{ status: string }>(here).status).toBe('success');
    const badProject = sandbox.writeProject('queue-config-bad', { ...files(), 'strata.json': JSON.stringify({ name: 'queue-config', queue: 'yes' }) });
    const bad = runCli(['list', '--project', badProject]);
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('queue');
  });

  it('refuses assets worker --pools naming a pool the project does not know', () => {
    const project = sandbox.writeProject('worker-pools-unknown', files());
    const result = runCli(['worker', '--once', '--pools', 'warehouse,nope', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain('unknown pool "nope"');
    expect(result.stderr).toContain('known: warehouse');
    expect(stackFrames(result.stderr)).toEqual([]);
  });
});

describe.skipIf(missing !== undefined)(`assets worker on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const schema = `cli_worker_${process.pid}`;
  const url = (): string => {
    const u = new URL(postgresUrl());
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  };

  beforeAll(() => onPostgres(`drop schema if exists ${schema} cascade`, `create schema ${schema}`));
  afterAll(() => onPostgres(`drop schema if exists ${schema} cascade`));

  it('two workers run every queued run exactly once: each asset partition materialized once, nothing left queued, running or leased', async () => {
    const project = sandbox.writeProject('worker-pg', files('env:STRATA_E2E_STORAGE'));
    const env = { STRATA_E2E_STORAGE: url() };
    const runIds: string[] = [];
    for (const region of REGIONS) {
      const result = runCli(['materialize', '--select', '*', '--partition', region, '--queue', '--json', '--project', project], env);
      expect(result.status, result.stderr).toBe(0);
      runIds.push(parseJson<{ runId: string; status: string }>(result).runId);
    }
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
    expect(await postgresRows(`select status, count(*)::int as n from ${schema}.runs group by status`)).toEqual([{ status: 'queued', n: REGIONS.length }]);

    const workers = [0, 1].map(() => startCli(['worker', '--once', '--concurrency', '2', '--json', '--project', project], { env }));
    const results = await Promise.all(workers.map((w) => w.done));
    for (const result of results) {
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).toContain('--concurrency 2: the DuckDB warehouse has one writer, so this worker runs one run at a time');
    }
    const worked = results.map((r) => parseJson<{ runs: { runId: string; status: string }[] }>(r).runs);
    const claimed = worked.flat().map((r) => r.runId);
    expect([...claimed].sort()).toEqual([...runIds].sort());
    expect(worked.flat().every((r) => r.status === 'success')).toBe(true);

    const perPartition = await postgresRows<{ asset_key: string; partition_key: string; n: number }>(
      `select asset_key, partition_key, count(*)::int as n from ${schema}.materializations group by asset_key, partition_key order by asset_key, partition_key`,
    );
    expect(perPartition).toHaveLength(2 * REGIONS.length);
    expect(perPartition.every((row) => row.n === 1)).toBe(true);
    expect(await postgresRows(`select status, count(*)::int as n from ${schema}.runs group by status`)).toEqual([{ status: 'success', n: REGIONS.length }]);
    expect(await postgresRows(`select * from ${schema}.leases`)).toEqual([]);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select count(*)::int as n from marts.totals')).toEqual([{ n: REGIONS.length }]);
  });

  it('on a Postgres warehouse, two workers of two runs each write at once (no turns at a file), every queued run exactly once', async () => {
    const database = `cli_worker_wh_${process.pid}`;
    await onPostgres(`drop database if exists ${database} with (force)`, `create database ${database}`);
    try {
      const warehouse = new URL(postgresUrl());
      warehouse.pathname = `/${database}`;
      const project = sandbox.writeProject('worker-pg-warehouse', {
        'strata.json': JSON.stringify({ name: 'worker-pg-warehouse', storage: 'env:STRATA_E2E_STORAGE', warehouse: 'env:STRATA_E2E_WAREHOUSE' }),
        'defs/raw/sales.sql': [
          `-- partitioned_by: static(${REGIONS.join(', ')})`,
          '-- partition_column: region',
          'select {{ partition_key }}::text as region, i as n from generate_series(0, 4) as t(i)',
        ].join('\n'),
      });
      await emptyRuns(schema);
      const env = { STRATA_E2E_STORAGE: url(), STRATA_E2E_WAREHOUSE: warehouse.toString() };
      for (const region of REGIONS) {
        expect(runCli(['materialize', '--select', '*', '--partition', region, '--queue', '--project', project], env).status).toBe(0);
      }
      const workers = [0, 1].map(() => startCli(['worker', '--once', '--concurrency', '2', '--json', '--project', project], { env }));
      const results = await Promise.all(workers.map((w) => w.done));
      for (const result of results) {
        expect(result.status, result.stdout + result.stderr).toBe(0);
        expect(result.stderr).not.toContain('one writer');
      }
      const claimed = results.flatMap((r) => parseJson<{ runs: { runId: string; status: string }[] }>(r).runs);
      expect(claimed).toHaveLength(REGIONS.length);
      expect(claimed.every((r) => r.status === 'success')).toBe(true);
      const perPartition = await postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}.materializations group by asset_key, partition_key`);
      expect(perPartition).toEqual(REGIONS.map(() => ({ n: 1 })));
      expect(await postgresRows(`select status, count(*)::int as n from ${schema}.runs group by status`)).toEqual([{ status: 'success', n: REGIONS.length }]);
      expect(await postgresRows(`select * from ${schema}.leases`)).toEqual([]);
      // Some runs wrote at the same time (with DuckDB they would have taken turns).
      const spans = await postgresRows<{ started: string; ended: string }>(`select started_at as started, ended_at as ended from ${schema}.runs`);
      const overlaps = spans.some((a, i) => spans.some((b, j) => i !== j && Number(a.started) < Number(b.started) && Number(b.started) < Number(a.ended)));
      expect(overlaps).toBe(true);
    } finally {
      await onPostgres(`drop database if exists ${database} with (force)`);
    }
  });

  it('with "queue": true, daemon --once and materialize queue their runs with their pools (no second daemon run); worker --pools claims only runs of its pools', async () => {
    const project = sandbox.writeProject('worker-pools', {
      'strata.json': JSON.stringify({ name: 'worker-pools', storage: 'env:STRATA_E2E_STORAGE', queue: true }),
      'defs/raw/a.sql': '-- automation: eager\nselect 1 as v',
      'defs/raw/b.sql': '-- automation: eager\n-- pool: api\nselect 2 as v',
    });
    await emptyRuns(schema);
    const env = { STRATA_E2E_STORAGE: url() };
    const tick = runCli(['daemon', '--once', '--json', '--project', project], env);
    expect(tick.status, tick.stderr).toBe(0);
    const [daemonRun] = parseJson<{ tick: { runIds: string[] }; runs: { status: string }[] }>(tick).tick.runIds;
    expect(await postgresRows(`select id, status, pools from ${schema}.runs`)).toEqual([{ id: daemonRun, status: 'queued', pools: '["api","warehouse"]' }]);
    // A second tick sees it queued in storage: no second run.
    expect(parseJson<{ tick: { runIds: string[] } }>(runCli(['daemon', '--once', '--json', '--project', project], env)).tick.runIds).toEqual([]);
    const queued = parseJson<{ runId: string; status: string; pools: string[] }>(
      runCli(['materialize', '--select', 'raw/b', '--json', '--project', project], env),
    );
    expect(queued).toMatchObject({ status: 'queued', pools: ['api'] });
    const apiRun = queued.runId;

    const routed = runCli(['worker', '--once', '--pools', 'api', '--json', '--project', project], env);
    expect(routed.status, routed.stderr).toBe(0);
    expect(parseJson<{ runs: unknown[] }>(routed).runs).toEqual([{ runId: apiRun, status: 'success' }]);
    expect(await postgresRows(`select status from ${schema}.runs where id = $1`, [daemonRun])).toEqual([{ status: 'queued' }]);
    const any = runCli(['worker', '--once', '--json', '--project', project], env);
    expect(parseJson<{ runs: unknown[] }>(any).runs).toEqual([{ runId: daemonRun, status: 'success' }]);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select v from raw.a')).toEqual([{ v: 1 }]);
  });

  it('SIGTERM stops claiming, lets the run going on finish, and leaves the rest queued', async () => {
    const project = sandbox.writeProject('worker-sigterm', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({ name: 'worker-sigterm', storage: 'env:STRATA_E2E_STORAGE' }),
      'defs/raw/gated.ts': [
        `import { existsSync } from 'node:fs';`,
        `import { asset } from 'strata';`,
        `const GO = new URL('../../go', import.meta.url);`,
        `export const gated = asset({`,
        `  key: 'raw/gated',`,
        `  async materialize(ctx) {`,
        `    while (!existsSync(GO)) await new Promise((resolve) => setTimeout(resolve, 50));`,
        `    return { rowCount: await ctx.warehouse.replaceTable('select 1 as v') };`,
        `  },`,
        `});`,
      ].join('\n'),
    });
    await emptyRuns(schema);
    const env = { STRATA_E2E_STORAGE: url() };
    const ids = [0, 1].map(
      () => parseJson<{ runId: string }>(runCli(['materialize', '--select', 'raw/gated', '--queue', '--json', '--project', project], env)).runId,
    );
    const worker = startCli(['worker', '--project', project], { env });
    const deadline = Date.now() + 30_000;
    while ((await postgresRows(`select id from ${schema}.runs where status = 'running'`)).length === 0) {
      if (Date.now() > deadline) throw new Error('no run was claimed in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    worker.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.writeFileSync(path.join(project, 'go'), '');
    const result = await worker.done;
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('stopping: no more claims; waiting for the runs going on');
    expect(result.stdout).toContain('1 run run');
    expect(await postgresRows(`select id, status from ${schema}.runs order by created_at`)).toEqual([
      { id: ids[0], status: 'success' },
      { id: ids[1], status: 'queued' },
    ]);
    expect(await postgresRows(`select * from ${schema}.leases`)).toEqual([]);
  });
});
