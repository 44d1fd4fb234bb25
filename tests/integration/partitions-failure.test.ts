/**
 * A partition that fails, in-process against real DuckDB and SQLite files: only its own step
 * fails, the downstream partitions that read it are skipped, every other partition succeeds,
 * and the failed partition keeps the rows an earlier run wrote. Storage knows the partition's
 * last attempt failed (what `assets status` shows).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeRun, type RunResult } from '../../core/engine/execution/executor.ts';
import { buildPlan, type PlanOptions } from '../../core/model/planning/plan.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { SqliteStorage } from '../../storage/index.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const DAYS = 'daily(start=2025-01-01, end=2025-01-16)';
const BAD_DAY = '2025-01-05';

/** staging/events, multiplying by `factor`; with `failOn`, the query raises an error for that day only. */
function stagingSql(factor: number, failOn?: string): string {
  const value =
    failOn === undefined
      ? `e.amount * ${factor}`
      : `case when e.day = DATE '${failOn}' then error('no exchange rate for ' || e.day::VARCHAR) else e.amount * ${factor} end`;
  return [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    '-- backfill_policy: single_run(max=3)',
    `select e.day, e.id, ${value} as amount2`,
    'from raw.events e',
    'where e.day >= {{ partition_start }} and e.day < {{ partition_end }}',
  ].join('\n');
}

const FILES: Readonly<Record<string, string>> = {
  'package.json': '{"type":"module"}',
  'strata.json': JSON.stringify({ name: 'partitions-failure', concurrency: 4 }),
  'defs/raw/events.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    "select DATE '2025-01-01' + (i // 10)::INTEGER as day, i as id, i % 5 as amount",
    'from range(0, 150) t(i)',
    'where day >= {{ partition_start }} and day < {{ partition_end }}',
  ].join('\n'),
  'defs/staging/events.sql': stagingSql(2),
  'defs/marts/rolling.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    '-- partition_mapping: staging/events = window(-2, 0)',
    'select {{ partition_start }}::date as day, count(*) as events, sum(amount2) as total from staging.events',
    'where day >= {{ partition_start }} - interval 2 day and day < {{ partition_end }}',
  ].join('\n'),
};

let dir: string;
let storage: SqliteStorage;
let warehouse: DuckDBWarehouse;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-partitions-failure-'));
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  const config = (await loadProject(dir)).config;
  storage = await SqliteStorage.open(config.storageFile);
  warehouse = await DuckDBWarehouse.open(config.warehouseFile);
});

afterEach(async () => {
  warehouse.close();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(project: Project, options: PlanOptions): Promise<RunResult> {
  return executeRun({
    project,
    plan: buildPlan(project.graph, project.graph.keys, { now: NOW, ...options }),
    storage,
    warehouse,
    landing: new FileLandingZone(project.config.landingDir),
    selection: '*',
    now: NOW,
  });
}

/** Loads the project again after replacing staging/events.sql. */
async function withStaging(sql: string): Promise<Project> {
  fs.writeFileSync(path.join(dir, 'defs/staging/events.sql'), sql);
  return loadProject(dir);
}

function statusOf(result: RunResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
}

const rowsOfDay = (day: string) =>
  warehouse.query<{ id: number; amount2: number }>(`select id, amount2 from staging.events where day = DATE '${day}' order by id`);

describe('a partition that fails', () => {
  it.each([
    ['one step per partition', 'per_partition' as const],
    ['the single-run policy', 'policy' as const],
  ])('fails only its own step and skips the downstream partitions reading it (%s)', async (_name, grouping) => {
    const project = await withStaging(stagingSql(2, BAD_DAY));
    const result = await run(project, { partitions: { from: '2025-01-01', to: '2025-01-10' }, grouping });
    expect(result.status).toBe('failed');
    const status = statusOf(result);
    const failed = Object.keys(status).filter((id) => status[id] === 'failed');
    const skipped = Object.keys(status).filter((id) => status[id] === 'skipped');
    const succeeded = Object.keys(status).filter((id) => status[id] === 'success');

    if (grouping === 'per_partition') {
      expect(failed).toEqual([`staging/events@${BAD_DAY}`]);
      // window(-2, 0): the 5th is read by the marts partitions of the 5th, 6th and 7th.
      expect(skipped).toEqual(['marts/rolling@2025-01-05', 'marts/rolling@2025-01-06', 'marts/rolling@2025-01-07']);
      expect(succeeded).toHaveLength(10 + 9 + 7);
    } else {
      // The whole range step holding the bad day fails: its other days roll back with it.
      expect(failed).toEqual(['staging/events@2025-01-04..2025-01-06']);
      expect(skipped).toEqual([
        'marts/rolling@2025-01-04',
        'marts/rolling@2025-01-05',
        'marts/rolling@2025-01-06',
        'marts/rolling@2025-01-07',
        'marts/rolling@2025-01-08',
      ]);
      expect(succeeded.filter((id) => id.startsWith('marts/'))).toEqual([
        'marts/rolling@2025-01-01',
        'marts/rolling@2025-01-02',
        'marts/rolling@2025-01-03',
        'marts/rolling@2025-01-09',
        'marts/rolling@2025-01-10',
      ]);
    }
    expect(result.error).toContain(failed[0]);
    const failure = result.steps.find((s) => s.status === 'failed');
    expect(failure?.error).toContain(`no exchange rate for ${BAD_DAY}`);
    const skip = result.steps.find((s) => s.status === 'skipped');
    expect(skip?.error).toBe(`upstream ${failed[0]} did not succeed`);
    expect(await warehouse.query(`select count(*) as n from staging.events where day = DATE '${BAD_DAY}'`)).toEqual([{ n: 0 }]);
    expect(await warehouse.query('select count(*) as n from marts.rolling')).toEqual([{ n: succeeded.filter((id) => id.startsWith('marts/')).length }]);
  });

  it('keeps the rows an earlier run wrote for the failed day, while the other days are rewritten', async () => {
    const good = await withStaging(stagingSql(2));
    const first = await run(good, { partitions: { from: '2025-01-01', to: '2025-01-10' }, grouping: 'per_partition' });
    expect(first.status).toBe('success');
    const before = await rowsOfDay(BAD_DAY);
    expect(before).toHaveLength(10);
    const martBefore = await warehouse.query(`select * from marts.rolling where day in (DATE '2025-01-05', DATE '2025-01-06', DATE '2025-01-07') order by day`);

    const bad = await withStaging(stagingSql(3, BAD_DAY));
    const second = await run(bad, { partitions: { from: '2025-01-01', to: '2025-01-10' }, grouping: 'per_partition' });
    expect(second.status).toBe('failed');

    // The failed day still holds the first run's rows; the others hold the new ones.
    expect(await rowsOfDay(BAD_DAY)).toEqual(before);
    const other = await rowsOfDay('2025-01-04');
    expect(other.map((r) => r.amount2)).toEqual(other.map((r) => (r.id % 5) * 3));
    expect(await warehouse.query('select count(*) as n, count(distinct (day, id)) as d from staging.events')).toEqual([{ n: 100, d: 100 }]);
    // Skipped marts partitions keep their rows too.
    expect(await warehouse.query(`select * from marts.rolling where day in (DATE '2025-01-05', DATE '2025-01-06', DATE '2025-01-07') order by day`)).toEqual(
      martBefore,
    );

    // Storage: the bad day's last attempt failed after its last materialization (status "failed");
    // the other days' last attempts succeeded; skipped partitions have no failure.
    const failures = await storage.latestStepFailures(['staging/events', 'marts/rolling']);
    expect(failures.map((f) => `${f.assetKey}@${f.partition}`)).toEqual([`staging/events@${BAD_DAY}`]);
    expect(failures[0]?.runId).toBe(second.runId);
    expect(failures[0]?.message).toContain('no exchange rate');
    const latest = new Map((await storage.latestMaterializations(['staging/events'])).map((m) => [m.partition, m]));
    expect(latest.get(BAD_DAY)?.runId).toBe(first.runId);
    expect(failures[0]?.timestamp).toBeGreaterThan(latest.get(BAD_DAY)?.timestamp ?? Infinity);
    expect(latest.get('2025-01-04')?.runId).toBe(second.runId);

    // Fixing the query and running the day again clears it: the materialization is newer than the failure.
    const fixed = await withStaging(stagingSql(3));
    const third = await run(fixed, { partitions: { key: BAD_DAY } });
    expect(third.status).toBe('success');
    const [stillFailed] = await storage.latestStepFailures(['staging/events']);
    const now = (await storage.latestMaterializations(['staging/events'])).find((m) => m.partition === BAD_DAY);
    expect(now?.timestamp).toBeGreaterThanOrEqual(stillFailed?.timestamp ?? Infinity);
    expect((await rowsOfDay(BAD_DAY)).map((r) => r.amount2)).toEqual(before.map((r) => (r.id % 5) * 3));
  });

  it('records one failure event per partition of a failed range step', async () => {
    const project = await withStaging(stagingSql(2, BAD_DAY));
    const result = await run(project, { partitions: { from: '2025-01-01', to: '2025-01-10' } });
    expect(result.status).toBe('failed');
    const failures = await storage.latestStepFailures(['staging/events']);
    expect(failures.map((f) => f.partition)).toEqual(['2025-01-04', '2025-01-05', '2025-01-06']);
    const events = await storage.listEvents(result.runId);
    expect(events.filter((e) => e.type === 'step_failure').map((e) => e.partition)).toEqual(['2025-01-04', '2025-01-05', '2025-01-06']);
    expect(events.filter((e) => e.type === 'materialization' && e.assetKey === 'staging/events')).toHaveLength(3);
  });
});
