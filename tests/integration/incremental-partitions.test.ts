/**
 * Partitioned incremental assets on real DuckDB and SQLite files: a step changes only the rows
 * of its partition window (merge, append, delete+insert), `{{ watermark }}` and
 * `{{ is_incremental }}` are the window's, `fullRefresh` replaces the step's partitions wholly,
 * new rows outside the window fail the step with nothing written, a failed blocking check
 * leaves the partition as it was, static partitions merge within their keys, and TypeScript
 * assets get the same through `ctx`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { incremental } from '../../core/model/definitions/incremental-config.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { PartitionRequest } from '../../core/model/planning/partition-request.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import type { RunResult } from '../../core/engine/execution/executor.ts';
import { openTempWorkspace, withoutSchema, type TempWorkspace } from './temp-workspace.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const READ = "read_csv({{ landing }} || '/events.csv', columns = {'id': 'INTEGER', 'day': 'DATE', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})";
const IN_WINDOW = 'day >= {{ partition_start }} and day < {{ partition_end }}';
const PARTITIONED = `-- materialization: incremental
-- partitioned_by: daily(start=2025-01-01, end=2025-01-06)
-- partition_column: day
-- backfill_policy: single_run
`;
const EVENTS = `${PARTITIONED}-- unique_key: id
-- watermark: updated_at
select *, {{ is_incremental }} as was_incremental from ${READ} where ${IN_WINDOW} and updated_at > {{ watermark }}
`;

const FIRST = [
  '1,2025-01-01,new,2025-01-01 10:00:00',
  '2,2025-01-01,new,2025-01-01 11:00:00',
  '3,2025-01-02,new,2025-01-02 10:00:00',
  '4,2025-01-03,new,2025-01-03 10:00:00',
];

describe('partitioned incremental SQL assets', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-incremental-partitions-', { name: 'incremental-partitions' }, { 'defs/raw/events.sql': EVENTS });
    writeEvents(FIRST);
  });

  afterEach(() => workspace.close());

  function writeEvents(lines: readonly string[]): void {
    fs.mkdirSync(workspace.config.landingDir, { recursive: true });
    fs.writeFileSync(path.join(workspace.config.landingDir, 'events.csv'), `${['id,day,status,updated_at', ...lines].join('\n')}\n`);
  }

  function writeAsset(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, 'defs', file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, 'defs', file), text);
  }

  function run(project: Project, partitions: PartitionRequest, keys: readonly string[] = project.graph.keys, fullRefresh = false): Promise<RunResult> {
    return workspace.run(project, keys, { plan: buildPlan(project.graph, keys, { now: NOW, partitions }), now: NOW, fullRefresh });
  }

  async function rows(table = 'raw.events', columns = 'id, day::varchar as day, status'): Promise<string[]> {
    return (await workspace.warehouse.query(`select ${columns} from ${table} order by all`)).map((r) => Object.values(r).join('|'));
  }

  /** The latest materialization of one partition: its metadata and row count. */
  async function latest(partition: string, key = 'raw/events'): Promise<Record<string, unknown>> {
    const [record] = await workspace.storage.materializationHistory(key, { partition, limit: 1 });
    return { ...withoutSchema(record?.metadata), rowCount: record?.rowCount };
  }

  const ALL = { from: '2025-01-01', to: '2025-01-05' };

  it('loads, then is allowed: a backfill builds every window in one step, with per-partition row counts', async () => {
    const project = await loadProject(workspace.dir);
    const result = await run(project, ALL);
    expect(result.status).toBe('success');
    expect(result.steps).toHaveLength(1);
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-01|new', '3|2025-01-02|new', '4|2025-01-03|new']);
    // Each partition records its own counts; the watermark is the step's (its window is the range).
    expect(await latest('2025-01-01')).toEqual({ build: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, watermark: null, rowCount: 2 });
    expect(await latest('2025-01-03')).toMatchObject({ rowsInserted: 1, rowCount: 1 });
    expect(await latest('2025-01-05')).toMatchObject({ rowsInserted: 0, rowCount: 0 });

    // A range step merges in every window of the range: counts per partition, the step's totals in its event.
    writeEvents([
      '2,2025-01-01,paid,2025-01-04 09:00:00',
      '3,2025-01-02,paid,2025-01-04 09:00:00',
      '7,2025-01-02,new,2025-01-04 09:00:00',
      '8,2025-01-04,new,2025-01-04 09:00:00',
    ]);
    const again = await run(project, { from: '2025-01-01', to: '2025-01-04' });
    expect(again.status).toBe('success');
    expect(await latest('2025-01-01')).toEqual({
      build: 'incremental',
      rowsInserted: 0,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-03 10:00:00',
      rowCount: 2,
    });
    expect(await latest('2025-01-02')).toMatchObject({ build: 'incremental', rowsInserted: 1, rowsUpdated: 1, rowCount: 2 });
    expect(await latest('2025-01-03')).toMatchObject({ build: 'incremental', rowsInserted: 0, rowsUpdated: 0, rowCount: 1 });
    expect(await latest('2025-01-04')).toMatchObject({ build: 'full', rowsInserted: 1, rowsUpdated: 0, rowCount: 1 });
    const events = await workspace.storage.listEvents(again.runId);
    expect(events.filter((e) => e.type === 'materialization').map((e) => e.message)).toContain(
      'materialized raw/events@2025-01-01..2025-01-04 (6 rows): incremental: 2 inserted, 2 updated, 0 deleted, watermark 2025-01-03 10:00:00',
    );
  });

  it("merges late rows into one window only, by the window's own watermark; the same key in another window is not touched", async () => {
    const project = await loadProject(workspace.dir);
    await run(project, ALL);
    // Day 1: id 2 updated late, id 5 new, id 4 (which lives on day 3) arrives on day 1 too. Day 2: id 3 updated.
    // Day 1's id 1 comes again, not newer than day 1's watermark (11:00): filtered out.
    writeEvents([
      '1,2025-01-01,new,2025-01-01 10:00:00',
      '2,2025-01-01,paid,2025-01-04 09:00:00',
      '5,2025-01-01,new,2025-01-04 09:00:00',
      '4,2025-01-01,moved,2025-01-04 09:00:00',
      '3,2025-01-02,paid,2025-01-04 09:00:00',
      '4,2025-01-03,new,2025-01-03 10:00:00',
    ]);
    expect((await run(project, { key: '2025-01-01' })).status).toBe('success');
    expect(await latest('2025-01-01')).toEqual({
      build: 'incremental',
      rowsInserted: 2,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-01 11:00:00',
      rowCount: 4,
    });
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-01|paid', '3|2025-01-02|new', '4|2025-01-01|moved', '4|2025-01-03|new', '5|2025-01-01|new']);
    expect(await rows('raw.events', 'id, was_incremental')).toEqual(['1|false', '2|true', '3|false', '4|false', '4|true', '5|true']);

    // Day 2's watermark is day 2's maximum (10:00), not the table's (day 1's 09:00 on the 4th).
    expect((await run(project, { key: '2025-01-02' })).status).toBe('success');
    expect(await latest('2025-01-02')).toEqual({
      build: 'incremental',
      rowsInserted: 0,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-02 10:00:00',
      rowCount: 1,
    });

    // An empty window: not incremental, the lowest watermark.
    writeEvents(['6,2025-01-04,new,2025-01-04 10:00:00']);
    expect((await run(project, { key: '2025-01-04' })).status).toBe('success');
    expect(await latest('2025-01-04')).toEqual({ build: 'full', rowsInserted: 1, rowsUpdated: 0, rowsDeleted: 0, watermark: null, rowCount: 1 });
    expect(await rows('raw.events', 'id, status, was_incremental')).toContain('6|new|false');
    expect(await rows('raw.events', 'count(*)')).toEqual(['7']);
  });

  it('append inserts into the window; delete+insert replaces the rows of a key in the window only', async () => {
    writeAsset('raw/appended.sql', `${PARTITIONED}select * from ${READ} where ${IN_WINDOW}\n`);
    writeAsset('raw/by_status.sql', `${PARTITIONED}-- unique_key: status\n-- incremental_strategy: delete+insert\nselect * from ${READ} where ${IN_WINDOW}\n`);
    const project = await loadProject(workspace.dir);
    const keys = ['raw/appended', 'raw/by_status'];
    expect((await run(project, ALL, keys)).status).toBe('success');
    writeEvents(['1,2025-01-01,new,2025-01-05 00:00:00', '7,2025-01-01,paid,2025-01-05 00:00:00', '3,2025-01-02,paid,2025-01-05 00:00:00']);
    expect((await run(project, { key: '2025-01-01' }, keys)).status).toBe('success');
    expect(await rows('raw.appended')).toEqual([
      '1|2025-01-01|new',
      '1|2025-01-01|new',
      '2|2025-01-01|new',
      '3|2025-01-02|new',
      '4|2025-01-03|new',
      '7|2025-01-01|paid',
    ]);
    expect(await latest('2025-01-01', 'raw/appended')).toMatchObject({ build: 'incremental', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, rowCount: 4 });
    // Status "new" of day 1 (ids 1 and 2) is replaced by the new "new" rows (id 1); days 2 and 3 keep their "new" rows.
    expect(await rows('raw.by_status')).toEqual(['1|2025-01-01|new', '3|2025-01-02|new', '4|2025-01-03|new', '7|2025-01-01|paid']);
    expect(await latest('2025-01-01', 'raw/by_status')).toMatchObject({ build: 'incremental', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 2, rowCount: 2 });
  });

  it('fullRefresh replaces only the selected partition, wholly, from the lowest watermark', async () => {
    const project = await loadProject(workspace.dir);
    await run(project, ALL);
    writeEvents(['1,2025-01-01,redone,2025-01-01 08:00:00', '3,2025-01-02,paid,2025-01-05 00:00:00']);
    expect((await run(project, { key: '2025-01-01' }, project.graph.keys, true)).status).toBe('success');
    expect(await rows()).toEqual(['1|2025-01-01|redone', '3|2025-01-02|new', '4|2025-01-03|new']);
    expect(await latest('2025-01-01')).toEqual({ build: 'full', rowsInserted: 1, rowsUpdated: 0, rowsDeleted: 0, watermark: null, rowCount: 1 });
  });

  it('fails with nothing written when new rows fall outside the window or have no partition', async () => {
    writeAsset('raw/events.sql', EVENTS.replace(`where ${IN_WINDOW}`, `where (${IN_WINDOW} or id = 4)`));
    const project = await loadProject(workspace.dir);
    expect((await run(project, ALL)).status).toBe('success');
    const before = await rows();
    writeEvents(['4,2025-01-03,late,2025-01-09 00:00:00', '8,2025-01-01,new,2025-01-09 00:00:00']);
    const failed = await run(project, { key: '2025-01-01' });
    expect(failed.status).toBe('failed');
    expect(failed.steps[0]?.error).toContain('1 of 2 rows fall outside the partitions being written (2025-01-01) or have a NULL day: filter the query on day');
    expect(await rows()).toEqual(before);

    writeAsset('raw/events.sql', EVENTS.replace(`where ${IN_WINDOW}`, `where (${IN_WINDOW} or day is null)`));
    writeEvents([...FIRST, '9,,new,2025-01-09 00:00:00']);
    const nulls = await run(await loadProject(workspace.dir), { key: '2025-01-01' });
    expect(nulls.steps[0]?.error).toContain('1 of 1 rows fall outside the partitions being written (2025-01-01) or have a NULL day');
    expect(await rows()).toEqual(before);
  });

  it('a failing blocking check leaves the partition as it was, and its watermark', async () => {
    writeAsset('raw/events.sql', `-- check: custom_sql(no_cancelled): select * from {{ this }} where status = 'cancelled'\n${EVENTS}`);
    const project = await loadProject(workspace.dir);
    await run(project, ALL);
    writeEvents(['2,2025-01-01,cancelled,2025-01-05 00:00:00', '5,2025-01-01,new,2025-01-05 00:00:00']);
    expect((await run(project, { key: '2025-01-01' })).status).toBe('failed');
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-01|new', '3|2025-01-02|new', '4|2025-01-03|new']);
    writeEvents(['2,2025-01-01,paid,2025-01-05 00:00:00', '5,2025-01-01,new,2025-01-05 00:00:00']);
    expect((await run(project, { key: '2025-01-01' })).status).toBe('success');
    expect(await latest('2025-01-01')).toMatchObject({ rowsInserted: 1, rowsUpdated: 1, watermark: '2025-01-01 11:00:00' });
  });

  it('static partitions: a step merges within its keys', async () => {
    writeAsset(
      'raw/regions.sql',
      `-- materialization: incremental
-- partitioned_by: static(eu, us)
-- partition_column: region
-- unique_key: id
select id, case when id % 2 = 0 then 'eu' else 'us' end as region, status from ${READ} where region = {{ partition_key }}
`,
    );
    const project = await loadProject(workspace.dir);
    expect((await run(project, { from: 'eu', to: 'us' }, ['raw/regions'])).status).toBe('success');
    writeEvents(['1,2025-01-01,paid,2025-01-05 00:00:00', '2,2025-01-01,paid,2025-01-05 00:00:00', '6,2025-01-01,new,2025-01-05 00:00:00']);
    expect((await run(project, { key: 'eu' }, ['raw/regions'])).status).toBe('success');
    expect(await rows('raw.regions', 'id, region, status')).toEqual(['1|us|new', '2|eu|paid', '3|us|new', '4|eu|new', '6|eu|new']);
    expect(await latest('eu', 'raw/regions')).toMatchObject({ build: 'incremental', rowsInserted: 1, rowsUpdated: 1, rowCount: 3 });
  });

  it('TypeScript: ctx.isIncremental, ctx.watermark and ctx.warehouse.merge are scoped to the window', async () => {
    const seen: unknown[] = [];
    const project = buildProject(workspace.config, [
      asset({
        key: 'raw/events_ts',
        partitions: daily({ start: '2025-01-01', end: '2025-01-06' }),
        partitionColumn: 'day',
        backfillPolicy: { type: 'single_run' },
        incremental: incremental({ uniqueKey: 'id', watermark: 'updated_at' }),
        async materialize(ctx) {
          seen.push([ctx.partition?.key, ctx.isIncremental, ctx.watermark]);
          const since = ctx.watermark === null ? "'-infinity'" : `'${ctx.watermark}'`;
          const read = `select * from read_csv('${workspace.config.landingDir}/events.csv', columns = {'id': 'INTEGER', 'day': 'DATE', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})`;
          const window = `day >= '${ctx.partition?.start}'::timestamp and day < '${ctx.partition?.end}'::timestamp`;
          const r = await ctx.warehouse.merge(`${read} where ${window} and updated_at > ${since}::timestamp`, { uniqueKey: 'id' });
          return { rowCount: r.rowCount, metadata: { build: r.mode, rowsInserted: r.rowsInserted, rowsUpdated: r.rowsUpdated, rowsDeleted: r.rowsDeleted } };
        },
      }),
    ]);
    expect((await run(project, ALL)).status).toBe('success');
    writeEvents(['2,2025-01-01,paid,2025-01-05 00:00:00', '4,2025-01-01,moved,2025-01-05 00:00:00', '3,2025-01-02,paid,2025-01-05 00:00:00']);
    expect((await run(project, { key: '2025-01-01' })).status).toBe('success');
    expect(await rows('raw.events_ts')).toEqual(['1|2025-01-01|new', '2|2025-01-01|paid', '3|2025-01-02|new', '4|2025-01-01|moved', '4|2025-01-03|new']);
    expect(await latest('2025-01-01', 'raw/events_ts')).toEqual({ build: 'incremental', rowsInserted: 1, rowsUpdated: 1, rowsDeleted: 0, rowCount: 3 });
    // A full refresh of day 2 deletes its rows first: the asset sees no table rows and no watermark.
    expect((await run(project, { key: '2025-01-02' }, project.graph.keys, true)).status).toBe('success');
    expect(await rows('raw.events_ts')).toEqual(['1|2025-01-01|new', '2|2025-01-01|paid', '3|2025-01-02|paid', '4|2025-01-01|moved', '4|2025-01-03|new']);
    expect(await latest('2025-01-02', 'raw/events_ts')).toMatchObject({ build: 'full', rowsInserted: 1, rowCount: 1 });
    expect(seen).toEqual([
      ['2025-01-01..2025-01-05', false, null],
      ['2025-01-01', true, '2025-01-01 11:00:00'],
      ['2025-01-02', false, null],
    ]);
  });
});
