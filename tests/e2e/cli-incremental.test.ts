/**
 * Incremental models through the `assets` CLI as a process: `--dry-run` says which steps build
 * incrementally and which in full (table and --json), a second materialize merges the changed
 * rows and `runs show` and `status` (table and --json) count them with the watermark read,
 * `--full-refresh` rebuilds, and a bad header exits 2. A daily incremental asset is backfilled,
 * then a re-run of one day merges its late updates.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

const ORDERS = `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select * from read_csv('landing/orders.csv', columns = {'order_id': 'INTEGER', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
where updated_at > {{ watermark }}
`;

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('incremental', {
    'strata.json': JSON.stringify({ name: 'incremental' }),
    'defs/raw/orders.sql': ORDERS,
    'defs/marts/order_count.sql': 'select count(*) as n from raw.orders\n',
  });
  writeOrders(['1,new,2025-01-01 00:00:00', '2,new,2025-01-02 00:00:00']);
});

afterAll(() => sandbox?.cleanup());

function writeOrders(lines: readonly string[]): void {
  fs.mkdirSync(path.join(project, 'landing'), { recursive: true });
  fs.writeFileSync(path.join(project, 'landing/orders.csv'), `${['order_id,status,updated_at', ...lines].join('\n')}\n`);
}

/** The BUILD column of a dry run, by step. */
function dryRunBuilds(extra: readonly string[] = [], dir = project): Record<string, string> {
  const result = runCli(['materialize', '--select', '*', '--dry-run', ...extra, '--project', dir]);
  expect(result.status, result.stderr).toBe(0);
  const rows = result.stdout
    .trimEnd()
    .split('\n')
    .slice(1, -1)
    .map((l) => l.split(/\s{2,}/));
  return Object.fromEntries(rows.map((r) => [r[1], r[3]]));
}

/** The materialization messages of a run, from `runs show`. */
function materializedLines(runId: string, dir = project, key = 'raw/orders'): string[] {
  const shown = runCli(['runs', 'show', runId.slice(0, 8), '--project', dir]);
  expect(shown.status, shown.stderr).toBe(0);
  return shown.stdout
    .split('\n')
    .filter((l) => l.includes(`materialized ${key}`))
    .map((l) => l.slice(l.indexOf('materialized')).trim());
}

describe('incremental models on the CLI', () => {
  it('dry runs label the steps, a second build merges, --full-refresh rebuilds', async () => {
    expect(dryRunBuilds()).toEqual({ 'raw/orders': 'full', 'marts/order_count': 'full' });
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);

    const first = runCli(['materialize', '--select', '*', '--json', '--project', project]);
    expect(first.status, first.stderr).toBe(0);
    expect(materializedLines(parseJson<{ runId: string }>(first).runId)).toEqual(['materialized raw/orders (2 rows): full: 2 inserted, 0 updated, 0 deleted']);

    expect(dryRunBuilds()).toEqual({ 'raw/orders': 'incremental', 'marts/order_count': 'full' });
    expect(dryRunBuilds(['--full-refresh'])).toEqual({ 'raw/orders': 'full', 'marts/order_count': 'full' });
    const json = parseJson<{ steps: { key: string; build: string }[] }>(
      runCli(['materialize', '--select', 'raw/orders', '--dry-run', '--json', '--project', project]),
    );
    expect(json.steps.map((s) => [s.key, s.build])).toEqual([['raw/orders', 'incremental']]);

    writeOrders(['2,paid,2025-01-05 00:00:00', '3,new,2025-01-06 00:00:00']);
    const second = runCli(['materialize', '--select', '*', '--json', '--project', project]);
    expect(second.status, second.stderr).toBe(0);
    expect(materializedLines(parseJson<{ runId: string }>(second).runId)).toEqual([
      'materialized raw/orders (3 rows): incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00',
    ]);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select n from marts.order_count')).toEqual([{ n: 3 }]);
    const status = parseJson<{ key: string; incremental?: unknown }[]>(runCli(['status', '--select', 'raw/orders', '--json', '--project', project]));
    expect(status.map((s) => [s.key, s.incremental])).toEqual([
      ['raw/orders', { build: 'incremental', rowsInserted: 1, rowsUpdated: 1, rowsDeleted: 0, watermark: '2025-01-02 00:00:00' }],
    ]);
    const human = runCli(['status', '--project', project]);
    expect(human.stdout).toMatch(/ROWS\s+RUN\s+CHECKS\s+MISSING\s+LAST WRITE\n/);
    expect(human.stdout).toMatch(/raw\/orders\s+fresh .* {2}incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00\n/);
    expect(human.stdout).toMatch(/marts\/order_count\s+fresh .* {2}-\n/);

    const refreshed = runCli(['materialize', '--select', 'raw/orders', '--full-refresh', '--json', '--project', project]);
    expect(refreshed.status, refreshed.stderr).toBe(0);
    expect(materializedLines(parseJson<{ runId: string }>(refreshed).runId)).toEqual([
      'materialized raw/orders (2 rows): full: 2 inserted, 0 updated, 0 deleted',
    ]);
  });

  it('an unknown strategy is a definition error naming the asset and file: exit 2, no stack', () => {
    const bad = sandbox.writeProject('bad-strategy', {
      'strata.json': JSON.stringify({ name: 'bad' }),
      'defs/raw/orders.sql': ORDERS.replace('-- watermark', '-- incremental_strategy: upsert\n-- watermark'),
    });
    const result = runCli(['materialize', '--select', '*', '--project', bad]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('defs/raw/orders.sql');
    expect(result.stderr).toContain('unknown incremental_strategy "upsert" (use merge, append, delete+insert)');
    expect(stackFrames(result.stderr)).toEqual([]);
  });

  it('a unique_key the query does not return fails the step before writing, naming asset and file: exit 2', async () => {
    const bad = sandbox.writeProject('bad-key', {
      'strata.json': JSON.stringify({ name: 'bad-key' }),
      'defs/raw/orders.sql': ORDERS.replace('unique_key: order_id', 'unique_key: id'),
      'landing/orders.csv': 'order_id,status,updated_at\n1,new,2025-01-01 00:00:00\n',
    });
    const result = runCli(['materialize', '--select', '*', '--project', bad]);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('raw/orders in defs/raw/orders.sql: unique_key id is not a column of the query (it returns order_id, status, updated_at)');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
    expect(await queryDuckDb(stateFiles(bad).warehouse, "select count(*)::int as n from duckdb_tables() where table_name = 'orders'")).toEqual([{ n: 0 }]);
  });
});

describe('a daily incremental asset on the CLI', () => {
  const EVENTS = `-- materialization: incremental
-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)
-- partition_column: day
-- backfill_policy: single_run
-- unique_key: id
-- watermark: updated_at
select * from read_csv('landing/events.csv', columns = {'id': 'INTEGER', 'day': 'DATE', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
where day >= {{ partition_start }} and day < {{ partition_end }} and updated_at > {{ watermark }}
`;

  it('a backfill builds every day in one step, then a re-run of one day merges its late updates and leaves the other days alone', async () => {
    const daily = sandbox.writeProject('daily-incremental', {
      'strata.json': JSON.stringify({ name: 'daily-incremental' }),
      'defs/raw/events.sql': EVENTS,
      'landing/events.csv':
        'id,day,status,updated_at\n1,2025-01-01,new,2025-01-01 10:00:00\n2,2025-01-02,new,2025-01-02 10:00:00\n3,2025-01-03,new,2025-01-03 10:00:00\n',
    });
    const table = () => queryDuckDb(stateFiles(daily).warehouse, 'select id, day::varchar as day, status from raw.events order by id, day');
    expect(dryRunBuilds([], daily)).toEqual({ 'raw/events@2025-01-01..2025-01-03': 'partitions' });

    const backfill = runCli(['backfill', '--select', 'raw/events', '--from', '2025-01-01', '--to', '2025-01-03', '--project', daily]);
    expect(backfill.status, backfill.stdout + backfill.stderr).toBe(0);
    expect(await table()).toEqual([
      { id: 1, day: '2025-01-01', status: 'new' },
      { id: 2, day: '2025-01-02', status: 'new' },
      { id: 3, day: '2025-01-03', status: 'new' },
    ]);

    expect(dryRunBuilds(['--partition', '2025-01-02'], daily)).toEqual({ 'raw/events@2025-01-02': 'incremental' });
    expect(dryRunBuilds(['--partition', '2025-01-02', '--full-refresh'], daily)).toEqual({ 'raw/events@2025-01-02': 'partitions' });

    // Late data: day 2's order 2 is paid, order 4 arrives on day 2; day 3's order 3 changed too, but only day 2 is re-run.
    fs.writeFileSync(
      path.join(daily, 'landing/events.csv'),
      'id,day,status,updated_at\n1,2025-01-01,new,2025-01-01 10:00:00\n2,2025-01-02,paid,2025-01-04 08:00:00\n4,2025-01-02,new,2025-01-04 08:00:00\n3,2025-01-03,paid,2025-01-04 08:00:00\n',
    );
    const rerun = runCli(['materialize', '--select', 'raw/events', '--partition', '2025-01-02', '--json', '--project', daily]);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(materializedLines(parseJson<{ runId: string }>(rerun).runId, daily, 'raw/events')).toEqual([
      'materialized raw/events@2025-01-02 (2 rows): incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 10:00:00',
    ]);
    expect(await table()).toEqual([
      { id: 1, day: '2025-01-01', status: 'new' },
      { id: 2, day: '2025-01-02', status: 'paid' },
      { id: 3, day: '2025-01-03', status: 'new' },
      { id: 4, day: '2025-01-02', status: 'new' },
    ]);
  });
});
