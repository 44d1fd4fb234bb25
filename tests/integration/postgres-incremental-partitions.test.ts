/**
 * A partitioned incremental asset whose query runs on Postgres (`source:`), against a real server
 * (tests/postgres-cluster.sh): a backfill extracts every day, a re-run of one day sends Postgres
 * that day's watermark, so only its late rows travel and are merged into its window; a full
 * refresh replaces that day only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { PartitionRequest } from '../../core/model/planning/partition-request.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { openTempWorkspace, withoutSchema, type TempWorkspace } from './temp-workspace.ts';

const missing = postgresMissing();
const NOW = new Date('2025-06-01T00:00:00Z');
let workspace: TempWorkspace;

const EVENTS = `-- source: shop_db
-- materialization: incremental
-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)
-- partition_column: day
-- backfill_policy: single_run
-- unique_key: id
-- watermark: updated_at
select id, day, status, updated_at from inc_part_events
where day >= {{ partition_start }} and day < {{ partition_end }} and updated_at > {{ watermark }}
`;

async function run(partitions: PartitionRequest, fullRefresh = false): Promise<void> {
  const project = await loadProject(workspace.dir);
  const plan = buildPlan(project.graph, project.graph.keys, { now: NOW, partitions });
  const result = await workspace.run(project, project.graph.keys, { plan, now: NOW, fullRefresh });
  expect(result.status, result.steps.map((s) => s.error).join()).toBe('success');
}

async function latest(partition: string): Promise<Record<string, unknown>> {
  const [record] = await workspace.storage.materializationHistory('raw/events', { partition, limit: 1 });
  return { ...withoutSchema(record?.metadata), rowCount: record?.rowCount };
}

async function rows(): Promise<string[]> {
  return (await workspace.warehouse.query('select id, day::varchar as day, status from raw.events order by id')).map((r) => Object.values(r).join('|'));
}

describe.skipIf(missing !== undefined)(`partitioned incremental source: assets${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => {
    process.env.STRATA_TEST_SHOP_DB = postgresUrl();
  });
  afterAll(() => {
    delete process.env.STRATA_TEST_SHOP_DB;
  });
  beforeEach(async () => {
    await onPostgres(
      'drop table if exists inc_part_events',
      'create table inc_part_events (id integer primary key, day date not null, status text, updated_at timestamp not null)',
      "insert into inc_part_events values (1, '2025-01-01', 'new', '2025-01-01 10:00'), (2, '2025-01-02', 'new', '2025-01-02 10:00'), (3, '2025-01-03', 'new', '2025-01-03 10:00')",
    );
    workspace = await openTempWorkspace('strata-pg-inc-part-', {
      name: 'pg-inc-part',
      resources: { shop_db: { type: 'postgres', url: 'env:STRATA_TEST_SHOP_DB' } },
    });
    mkdirSync(join(workspace.dir, 'defs/raw'), { recursive: true });
    writeFileSync(join(workspace.dir, 'defs/raw/events.sql'), EVENTS);
  });
  afterEach(() => workspace.close());

  it("merges one day's late rows by that day's watermark; a full refresh replaces that day only", async () => {
    await run({ from: '2025-01-01', to: '2025-01-03' });
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-02|new', '3|2025-01-03|new']);
    expect(await latest('2025-01-02')).toMatchObject({ build: 'full', rowsInserted: 1, rowCount: 1 });

    await onPostgres(
      "update inc_part_events set status = 'paid', updated_at = '2025-01-05 08:00' where id in (2, 3)",
      "insert into inc_part_events values (4, '2025-01-02', 'new', '2025-01-05 08:00')",
    );
    await run({ key: '2025-01-02' });
    expect(await latest('2025-01-02')).toMatchObject({
      build: 'incremental',
      rowsInserted: 1,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-02 10:00:00',
      rowCount: 2,
    });
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-02|paid', '3|2025-01-03|new', '4|2025-01-02|new']);

    await onPostgres('delete from inc_part_events where id = 4');
    await run({ key: '2025-01-02' }, true);
    expect(await latest('2025-01-02')).toMatchObject({ build: 'full', rowsInserted: 1, watermark: null, rowCount: 1 });
    expect(await rows()).toEqual(['1|2025-01-01|new', '2|2025-01-02|paid', '3|2025-01-03|new']);
  });
});
