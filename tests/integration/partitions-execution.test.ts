/**
 * Partitioned execution in-process, on projects loaded from temp folders (SQL files and a
 * TypeScript asset importing 'strata') against real DuckDB and SQLite files: single-run range
 * steps and one-step-per-partition runs write the same tables and the same per-partition
 * materializations; re-running partitions replaces their rows without duplicating them; every
 * partition gets its own materialization whose inputs name the upstream partitions it read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executeRun, type RunResult } from '../../core/engine/execution/executor.ts';
import { buildPlan, type PlanOptions } from '../../core/model/planning/plan.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { SqliteStorage, type MaterializationRecord } from '../../storage/index.ts';

/** Every partition below is complete at this instant. */
const NOW = new Date('2025-06-01T00:00:00Z');

const DAYS = 'daily(start=2025-01-01, end=2025-01-16)';

/**
 * raw/rates (TypeScript, unpartitioned) ─┐
 * raw/events (daily, single_run max 4) ──┴─> staging/events (daily) ─window(-6, 0)─> marts/rolling (daily, single_run max 3)
 */
const CHAIN: Readonly<Record<string, string>> = {
  'defs/raw/rates.ts': [
    `import { asset } from 'strata';`,
    `export const rates = asset({`,
    `  key: 'raw/rates',`,
    `  materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 3 as rate') }),`,
    `});`,
  ].join('\n'),
  'defs/raw/events.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    '-- backfill_policy: single_run(max=4)',
    "select DATE '2025-01-01' + (i // 10)::INTEGER as day, i as id, (i * 7) % 11 as amount",
    'from range(0, 150) t(i)',
    'where day >= {{ partition_start }} and day < {{ partition_end }}',
  ].join('\n'),
  'defs/staging/events.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    'select e.day, e.id, e.amount * r.rate as amount3',
    'from raw.events e cross join raw.rates r',
    'where e.day >= {{ partition_start }} and e.day < {{ partition_end }}',
  ].join('\n'),
  // Correct for a range step: one row per day of the step's window.
  'defs/marts/rolling.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    '-- partition_mapping: staging/events = window(-6, 0)',
    '-- backfill_policy: single_run(max=3)',
    'select d.day, count(s.id) as events, coalesce(sum(s.amount3), 0) as total',
    'from (select unnest(range({{ partition_start }}, {{ partition_end }}, interval 1 day))::date as day) d',
    'left join staging.events s on s.day > d.day - 7 and s.day <= d.day',
    'group by d.day',
  ].join('\n'),
};

const TABLES = ['raw.events', 'staging.events', 'marts.rolling'] as const;
const PARTITIONED = ['raw/events', 'staging/events', 'marts/rolling'] as const;

/** A project in a temp folder with its storage and warehouse open. */
class TestProject {
  private constructor(
    readonly dir: string,
    readonly project: Project,
    readonly storage: SqliteStorage,
    readonly warehouse: DuckDBWarehouse,
  ) {}

  static async create(files: Readonly<Record<string, string>>): Promise<TestProject> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-partitions-exec-'));
    const all = { 'package.json': '{"type":"module"}', 'strata.json': JSON.stringify({ name: 'partitions-exec', concurrency: 4 }), ...files };
    for (const [file, text] of Object.entries(all)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const project = await loadProject(dir);
    return new TestProject(dir, project, await SqliteStorage.open(project.config.storageFile), await DuckDBWarehouse.open(project.config.warehouseFile));
  }

  /** Plans `selected` (all assets by default) with `options` at {@link NOW} and runs it. */
  async run(options: PlanOptions = {}, selected: readonly string[] = this.project.graph.keys): Promise<RunResult> {
    const plan = buildPlan(this.project.graph, selected, { now: NOW, ...options });
    return executeRun({
      project: this.project,
      plan,
      storage: this.storage,
      warehouse: this.warehouse,
      landing: new FileLandingZone(this.project.config.landingDir),
      selection: selected.join(','),
      now: NOW,
    });
  }

  /** Every row of a table, in a total order. */
  rows(table: string): Promise<Record<string, unknown>[]> {
    return this.warehouse.query(`select * from ${table} order by all`);
  }

  /** Row count, and rows left after removing exact duplicates and duplicate (day, id) pairs. */
  async counts(table: string, key = 'day, id'): Promise<{ rows: number; distinctRows: number; distinctKeys: number }> {
    const [row] = await this.warehouse.query<{ rows: number; distinctRows: number; distinctKeys: number }>(
      `select count(*) as "rows", (select count(*) from (select distinct * from ${table})) as "distinctRows", count(distinct (${key})) as "distinctKeys" from ${table}`,
    );
    return row as { rows: number; distinctRows: number; distinctKeys: number };
  }

  /** Latest materialization per partition of `key`. */
  async latest(key: string): Promise<Map<string | null, MaterializationRecord>> {
    return new Map((await this.storage.latestMaterializations([key])).map((m) => [m.partition, m]));
  }

  async close(): Promise<void> {
    this.warehouse.close();
    await this.storage.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const open: TestProject[] = [];

async function createProject(files: Readonly<Record<string, string>> = CHAIN): Promise<TestProject> {
  const project = await TestProject.create(files);
  open.push(project);
  return project;
}

afterEach(async () => {
  for (const project of open.splice(0)) await project.close();
});

const TEN_DAYS = { from: '2025-01-01', to: '2025-01-10' };

function days(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `2025-01-${String(from + i).padStart(2, '0')}`);
}

function expectSuccess(result: RunResult): void {
  expect(result.error).toBeUndefined();
  expect(result.steps.filter((s) => s.status !== 'success')).toEqual([]);
  expect(result.status).toBe('success');
}

describe('single-run ranges and one step per partition', () => {
  it('write identical tables and identical per-partition materializations', async () => {
    const ranged = await createProject();
    const single = await createProject();
    const byPolicy = await ranged.run({ partitions: TEN_DAYS });
    const perPartition = await single.run({ partitions: TEN_DAYS, grouping: 'per_partition' });
    expectSuccess(byPolicy);
    expectSuccess(perPartition);

    // The policy run really used ranges: raw in chunks of 4, marts in chunks of 3.
    expect(byPolicy.steps.map((s) => s.id)).toEqual([
      'raw/events@2025-01-01..2025-01-04',
      'raw/events@2025-01-05..2025-01-08',
      'raw/events@2025-01-09..2025-01-10',
      'raw/rates',
      ...days(1, 10).map((d) => `staging/events@${d}`),
      'marts/rolling@2025-01-01..2025-01-03',
      'marts/rolling@2025-01-04..2025-01-06',
      'marts/rolling@2025-01-07..2025-01-09',
      'marts/rolling@2025-01-10',
    ]);
    expect(perPartition.steps).toHaveLength(31);

    for (const table of TABLES) {
      const rows = await ranged.rows(table);
      expect(rows.length).toBeGreaterThan(0);
      expect(await single.rows(table)).toEqual(rows);
    }
    expect((await ranged.counts('raw.events')).rows).toBe(100);
    expect((await ranged.counts('marts.rolling', 'day')).rows).toBe(10);

    for (const key of PARTITIONED) {
      const rowCounts = async (p: TestProject) => [...(await p.latest(key)).values()].map((m) => [m.partition, m.rowCount]);
      const expected = await rowCounts(single);
      expect(expected).toEqual(days(1, 10).map((d) => [d, key === 'marts/rolling' ? 1 : 10]));
      expect(await rowCounts(ranged)).toEqual(expected);
    }
  });

  it('report range step row counts as the sum of their partitions', async () => {
    const project = await createProject();
    const result = await project.run({ partitions: TEN_DAYS });
    const rowsOf = (id: string) => result.steps.find((s) => s.id === id)?.rowCount;
    expect(rowsOf('raw/events@2025-01-01..2025-01-04')).toBe(40);
    expect(rowsOf('raw/events@2025-01-09..2025-01-10')).toBe(20);
    expect(rowsOf('marts/rolling@2025-01-04..2025-01-06')).toBe(3);
    expect(rowsOf('staging/events@2025-01-07')).toBe(10);
  });
});

describe('materializations of partitioned assets', () => {
  it('records one materialization per partition, even for a range step, with the run id', async () => {
    const project = await createProject();
    const result = await project.run({ partitions: TEN_DAYS });
    expectSuccess(result);
    for (const key of PARTITIONED) {
      const history = await project.storage.materializationHistory(key, { limit: 100 });
      expect(history.map((m) => m.partition).sort()).toEqual(days(1, 10));
      expect(new Set(history.map((m) => m.runId))).toEqual(new Set([result.runId]));
    }
    const rates = await project.latest('raw/rates');
    expect([...rates.keys()]).toEqual([null]);
  });

  it('keys input data versions by upstream@partition, matching what the upstream recorded', async () => {
    const project = await createProject();
    expectSuccess(await project.run({ partitions: TEN_DAYS }));
    const raw = await project.latest('raw/events');
    const rates = await project.latest('raw/rates');
    const staging = await project.latest('staging/events');
    const marts = await project.latest('marts/rolling');

    expect(staging.get('2025-01-05')?.inputDataVersions).toEqual({
      'raw/events@2025-01-05': raw.get('2025-01-05')?.dataVersion,
      'raw/rates': rates.get(null)?.dataVersion,
    });
    // window(-6, 0): the day and the six before it, clipped at the first partition.
    const inputsOf = (partition: string) => marts.get(partition)?.inputDataVersions ?? {};
    expect(inputsOf('2025-01-10')).toEqual(Object.fromEntries(days(4, 10).map((d) => [`staging/events@${d}`, staging.get(d)?.dataVersion])));
    expect(Object.keys(inputsOf('2025-01-02'))).toEqual(['staging/events@2025-01-01', 'staging/events@2025-01-02']);

    // Each partition of a range step gets its own data version.
    expect(new Set(days(1, 4).map((d) => raw.get(d)?.dataVersion)).size).toBe(4);
  });

  it('reads inputs of partitions written by earlier runs from storage', async () => {
    const project = await createProject();
    expectSuccess(await project.run({ partitions: TEN_DAYS }, ['raw/events', 'raw/rates', 'staging/events']));
    const second = await project.run({ partitions: { key: '2025-01-08' } }, ['marts/rolling']);
    expectSuccess(second);
    const staging = await project.latest('staging/events');
    const mart = (await project.latest('marts/rolling')).get('2025-01-08');
    expect(mart?.runId).toBe(second.runId);
    expect(mart?.inputDataVersions).toEqual(Object.fromEntries(days(2, 8).map((d) => [`staging/events@${d}`, staging.get(d)?.dataVersion])));
  });
});

describe('re-running partitions', () => {
  it('leaves exactly the same rows when one partition is run twice more', async () => {
    const project = await createProject();
    expectSuccess(await project.run({ partitions: TEN_DAYS }));
    const before = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await project.rows(t)] as const)));
    const stagingVersion = (await project.latest('staging/events')).get('2025-01-03')?.dataVersion;

    for (let i = 0; i < 2; i++) expectSuccess(await project.run({ partitions: { key: '2025-01-03' } }, ['staging/events', 'marts/rolling']));

    for (const table of TABLES) expect(await project.rows(table)).toEqual(before[table]);
    expect(await project.counts('staging.events')).toEqual({ rows: 100, distinctRows: 100, distinctKeys: 100 });
    expect(await project.counts('marts.rolling', 'day')).toEqual({ rows: 10, distinctRows: 10, distinctKeys: 10 });
    const history = await project.storage.materializationHistory('staging/events', { partition: '2025-01-03' });
    expect(history).toHaveLength(3);
    // Same code, same inputs: the same data version.
    expect(new Set(history.map((m) => m.dataVersion))).toEqual(new Set([stagingVersion]));
  });

  it('leaves exactly the same rows when an overlapping range is run twice more, by policy and per partition', async () => {
    const project = await createProject();
    expectSuccess(await project.run({ partitions: TEN_DAYS }));
    const before = await Promise.all(TABLES.map((t) => project.rows(t)));
    expectSuccess(await project.run({ partitions: { from: '2025-01-03', to: '2025-01-12' } }));
    expectSuccess(await project.run({ partitions: { from: '2025-01-02', to: '2025-01-08' }, grouping: 'per_partition' }));

    const after = await Promise.all(TABLES.map((t) => project.rows(t)));
    // Days 11 and 12 were added; days 1..10 are exactly as before.
    const upTo10 = (rows: Record<string, unknown>[]) => rows.filter((r) => (r.day as Date) < new Date('2025-01-11T00:00:00Z'));
    for (const [i, table] of TABLES.entries()) {
      expect(upTo10(after[i] ?? []), table).toEqual(before[i]);
    }
    expect(await project.counts('raw.events')).toEqual({ rows: 120, distinctRows: 120, distinctKeys: 120 });
    expect(await project.counts('staging.events')).toEqual({ rows: 120, distinctRows: 120, distinctKeys: 120 });
    expect(await project.counts('marts.rolling', 'day')).toEqual({ rows: 12, distinctRows: 12, distinctKeys: 12 });
  });

  it('replaces only the partition run: rows of other days are not touched', async () => {
    const project = await createProject();
    expectSuccess(await project.run({ partitions: TEN_DAYS }, ['raw/events']));
    // Rows of other days written outside Strata stay; the partition's own rows are replaced.
    await project.warehouse.query(`insert into raw.events values (DATE '2025-01-02', 9999, 1), (DATE '2025-01-04', 8888, 1)`);
    expectSuccess(await project.run({ partitions: { key: '2025-01-02' } }, ['raw/events']));
    const ids = (await project.warehouse.query<{ id: number }>('select id from raw.events where id > 1000 order by id')).map((r) => r.id);
    expect(ids).toEqual([8888]);
    expect((await project.latest('raw/events')).get('2025-01-02')?.rowCount).toBe(10);
  });
});

describe('static partitions', () => {
  const REGIONS = {
    'defs/raw/regions.sql': [
      '-- partitioned_by: static(eu, us, apac)',
      '-- partition_column: region',
      'select {{ partition_key }} as region, i as n from range(0, 3) t(i)',
    ].join('\n'),
  };

  it('writes each key once, and a re-run of one key replaces only its rows', async () => {
    const project = await createProject(REGIONS);
    expectSuccess(await project.run());
    expectSuccess(await project.run({ partitions: { key: 'us' } }));
    expectSuccess(await project.run({ partitions: { from: 'eu', to: 'us' } }));
    expect(await project.warehouse.query('select region, count(*) as n from raw.regions group by region order by region')).toEqual([
      { region: 'apac', n: 3 },
      { region: 'eu', n: 3 },
      { region: 'us', n: 3 },
    ]);
    expect([...(await project.latest('raw/regions')).entries()].map(([p, m]) => [p, m.rowCount])).toEqual([
      ['apac', 3],
      ['eu', 3],
      ['us', 3],
    ]);
  });

  // Bug: a single-run step over static keys binds {{ partition_key }} to "eu..apac"
  // (core/engine/execution/step-compute.ts), so it writes rows for a key that does not exist, which the
  // step's delete (by the listed keys) never removes: every run adds them again.
  it('with the single-run policy, writes the same rows as one step per key', async () => {
    const project = await createProject({ 'defs/raw/regions.sql': `-- backfill_policy: single_run\n${REGIONS['defs/raw/regions.sql']}` });
    expectSuccess(await project.run());
    expectSuccess(await project.run());
    expect(await project.warehouse.query('select region, count(*) as n from raw.regions group by region order by region')).toEqual([
      { region: 'apac', n: 3 },
      { region: 'eu', n: 3 },
      { region: 'us', n: 3 },
    ]);
  });
});
