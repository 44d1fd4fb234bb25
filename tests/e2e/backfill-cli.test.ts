/**
 * Partitioned runs through the real `assets` CLI on a small self-made project: bad partition
 * input exits 2 with a message naming what is wrong and writes nothing; `--partition` builds one
 * partition; a backfill with a failing day exits 1, `assets status` shows the failed and missing
 * partitions, and `--resume` after the fix redoes the failed and skipped partitions and those the
 * fix made stale; a backfill of static partitions takes its range in list order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editFile, parseJson, queryDuckDb, querySqlite, runCli, Sandbox, stackFrames, startCli, stateFiles, type CliResult } from './cli-harness.ts';

const DAYS = 'daily(start=2025-01-01, end=2025-02-01)';
const BAD_DAY = '2025-01-05';
const FAILING = `case when e.day = DATE '${BAD_DAY}' then error('no exchange rate for ' || e.day::VARCHAR) else e.amount * 2 end`;

function files(staging: string = 'e.amount * 2'): Record<string, string> {
  return {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name: 'backfill-cli', concurrency: 2 }),
    'defs/raw/dim.sql': "select 'eur' as currency, 1.1 as rate",
    'defs/raw/events.sql': [
      `-- partitioned_by: ${DAYS}`,
      '-- partition_column: day',
      '-- backfill_policy: single_run(max=7)',
      "select DATE '2025-01-01' + (i // 4)::INTEGER as day, i as id, i % 9 as amount",
      'from range(0, 124) t(i)',
      'where day >= {{ partition_start }} and day < {{ partition_end }}',
    ].join('\n'),
    'defs/staging/events.sql': [
      `-- partitioned_by: ${DAYS}`,
      '-- partition_column: day',
      `select e.day, e.id, ${staging} as amount2, d.currency`,
      'from raw.events e cross join raw.dim d',
      'where e.day >= {{ partition_start }} and e.day < {{ partition_end }}',
    ].join('\n'),
    'defs/marts/rolling.sql': [
      `-- partitioned_by: ${DAYS}`,
      '-- partition_column: day',
      '-- partition_mapping: staging/events = window(-1, 0)',
      'select {{ partition_start }}::date as day, count(*) as events, sum(amount2) as total from staging.events',
      'where day >= {{ partition_start }} - interval 1 day and day < {{ partition_end }}',
    ].join('\n'),
  };
}

/** Rows of every stored table and warehouse table: equal snapshots mean nothing was written. */
async function snapshot(dir: string): Promise<Record<string, unknown>> {
  const { storage, warehouse } = stateFiles(dir);
  const stored = Object.fromEntries(
    ['runs', 'events', 'materializations', 'backfills'].map((table) => [
      table,
      querySqlite<Record<string, unknown>>(storage, `select * from ${table} order by rowid`),
    ]),
  );
  const tables = await queryDuckDb(warehouse, "select table_schema || '.' || table_name as name from information_schema.tables order by 1");
  const contents: Record<string, unknown> = {};
  for (const { name } of tables) contents[String(name)] = await queryDuckDb(warehouse, `select * from ${String(name)} order by all`);
  return { stored, contents };
}

function expectUserError(result: CliResult, ...fragments: string[]): void {
  expect(result.status, result.stderr).toBe(2);
  expect(stackFrames(result.stderr)).toEqual([]);
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

interface StatusJson {
  key: string;
  state: string;
  partitions: null | {
    total: number;
    materialized: number;
    missing: number;
    failed: number;
    missingRanges: { from: string; to: string; count: number }[];
    failedPartitions: string[];
  };
}

function status(dir: string, select: string): StatusJson[] {
  const result = runCli(['status', '--select', select, '--json', '--project', dir]);
  expect(result.status).toBe(0);
  return parseJson<StatusJson[]>(result);
}

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox.cleanup());

/** Rows of the stored tables and names of the warehouse tables of a project that may have no state yet. */
async function written(dir: string): Promise<Record<string, unknown>> {
  const { storage, warehouse } = stateFiles(dir);
  const counts = fs.existsSync(storage)
    ? Object.fromEntries(
        ['runs', 'events', 'materializations', 'backfills'].map((table) => [
          table,
          querySqlite<{ n: number }>(storage, `select count(*) as n from ${table}`)[0]?.n,
        ]),
      )
    : {};
  const tables = fs.existsSync(warehouse) ? await queryDuckDb(warehouse, 'select table_name from information_schema.tables') : [];
  return { ...counts, tables };
}

const BAD_INPUT: readonly (readonly [string, readonly string[], readonly string[]])[] = [
  ['--from after --to', ['backfill', '--select', '*', '--from', '2025-02-01', '--to', '2025-01-01'], ['--from 2025-02-01', '--to 2025-01-01']],
  ['a month 13 --partition', ['materialize', '--select', '*', '--partition', '2025-13-01'], ['raw/events', '"2025-13-01"', 'not a valid daily partition key']],
  [
    '--partition on an unpartitioned selection',
    ['materialize', '--select', 'raw/dim', '--partition', '2025-01-03'],
    ['--partition 2025-01-03', 'none of the selected assets is partitioned'],
  ],
  ['a malformed --to', ['backfill', '--select', '*', '--from', '2025-01-01', '--to', '2025-02-30'], ['--to "2025-02-30" is not a date']],
  [
    'a range outside the definition',
    ['backfill', '--select', 'raw/events+', '--from', '2024-01-01', '--to', '2024-01-31'],
    ['raw/events has no partitions between 2024-01-01 and 2024-01-31', '2025-01-01 to 2025-01-31'],
  ],
];

describe('bad partition input', () => {
  const results = new Map<string, { dir: string; result: CliResult }>();

  // Each case gets its own fresh copy, so they can run at once (a DuckDB file takes one process).
  beforeAll(async () => {
    await Promise.all(
      BAD_INPUT.map(async ([name, args], i) => {
        const dir = sandbox.writeProject(`bad-input-${i}`, files());
        results.set(name, { dir, result: await startCli([...args, '--project', dir]).done });
      }),
    );
  });

  it.each(BAD_INPUT)('exits 2 for %s, naming the problem, and writes nothing', async (name, _args, fragments) => {
    const { dir, result } = results.get(name) as { dir: string; result: CliResult };
    expectUserError(result, ...fragments);
    expect(result.stdout).toBe('');
    const state = await written(dir);
    expect(state).toMatchObject({ tables: [] });
    for (const [table, count] of Object.entries(state)) if (table !== 'tables') expect(count, table).toBe(0);
  });

  it('exits 2 for cancel of a finished backfill and for resuming it, leaving it as it was', async () => {
    const dir = sandbox.writeProject('finished', files());
    const first = runCli(['backfill', '--select', 'raw/events', '--from', '2025-01-01', '--to', '2025-01-03', '--json', '--project', dir]);
    expect(first.status, first.stderr).toBe(0);
    const backfillId = parseJson<{ backfill: { id: string } }>(first).backfill.id;
    const before = await snapshot(dir);
    expectUserError(runCli(['backfills', 'cancel', backfillId, '--project', dir]), `backfill ${backfillId.slice(0, 8)} is success, not running`);
    expectUserError(runCli(['backfill', '--resume', backfillId.slice(0, 8), '--project', dir]), 'already succeeded');
    expect(await snapshot(dir)).toEqual(before);
    const shown = runCli(['backfills', 'show', backfillId, '--json', '--project', dir]);
    expect(parseJson<{ status: string; done: number; total: number }>(shown)).toMatchObject({ status: 'success', done: 3, total: 3 });
  });
});

describe('--partition', () => {
  it('materializes one partition of the partitioned assets and the unpartitioned ones once', async () => {
    const dir = sandbox.writeProject('one-partition', files());
    const result = runCli(['materialize', '--select', '*', '--partition', '2025-01-07', '--project', dir]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('4 assets, 3 partitions in 4 steps');
    const rows = querySqlite<{ asset_key: string; partition_key: string; row_count: number }>(
      stateFiles(dir).storage,
      'select asset_key, partition_key, row_count from materializations order by asset_key',
    );
    expect(rows).toEqual([
      { asset_key: 'marts/rolling', partition_key: '2025-01-07', row_count: 1 },
      { asset_key: 'raw/dim', partition_key: '', row_count: 1 },
      { asset_key: 'raw/events', partition_key: '2025-01-07', row_count: 4 },
      { asset_key: 'staging/events', partition_key: '2025-01-07', row_count: 4 },
    ]);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select distinct day::VARCHAR as day from staging.events')).toEqual([{ day: '2025-01-07' }]);
    const [events] = status(dir, 'raw/events');
    expect(events?.partitions).toMatchObject({ total: 31, materialized: 1, missing: 30, failed: 0 });
  });
});

describe('a backfill with a failing day', () => {
  it('exits 1, status shows the failed and missing partitions, and --resume after the fix redoes those and what the fix made stale', async () => {
    const dir = sandbox.writeProject('failing-day', files(FAILING));
    const first = runCli(['backfill', '--select', '*', '--from', '2025-01-01', '--to', '2025-01-10', '--json', '--project', dir]);
    expect(first.status, first.stderr).toBe(1);
    const outcome = parseJson<{ backfill: { id: string; status: string; total: number; done: number; failed: number } }>(first);
    // raw 10 + dim 1 + staging 10 + marts 10; staging@5 fails, marts@5 and @6 are skipped.
    expect(outcome.backfill).toMatchObject({ status: 'failed', total: 31, done: 28, failed: 1 });

    const byKey = Object.fromEntries(status(dir, '*').map((s) => [s.key, s]));
    expect(byKey['staging/events']).toMatchObject({
      state: 'failed',
      partitions: {
        total: 31,
        materialized: 9,
        failed: 1,
        missing: 21,
        failedPartitions: [BAD_DAY],
        missingRanges: [{ from: '2025-01-11', to: '2025-01-31', count: 21 }],
      },
    });
    expect(byKey['marts/rolling']?.partitions).toMatchObject({
      materialized: 8,
      failed: 0,
      missingRanges: [
        { from: '2025-01-05', to: '2025-01-06', count: 2 },
        { from: '2025-01-11', to: '2025-01-31', count: 21 },
      ],
    });
    expect(byKey['raw/dim']?.state).toBe('fresh');

    editFile(path.join(dir, 'defs/staging/events.sql'), FAILING, 'e.amount * 2');
    const resumed = runCli(['backfill', '--resume', outcome.backfill.id.slice(0, 8), '--json', '--project', dir]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const done = parseJson<{ backfill: { status: string; done: number; total: number }; run: { steps: { id: string; status: string }[] } }>(resumed);
    expect(done.backfill).toMatchObject({ status: 'success', done: 31, total: 31 });
    // The fix changed staging's code: its partitions built by the old code are stale and rebuilt
    // with the failed one, and so are the marts reading them; raw (fresh) is not written again.
    const days = Array.from({ length: 10 }, (_, i) => `2025-01-${String(i + 1).padStart(2, '0')}`);
    expect(done.run.steps.map((s) => [s.id, s.status])).toEqual([
      ...days.map((day) => [`staging/events@${day}`, 'success']),
      ...days.map((day) => [`marts/rolling@${day}`, 'success']),
    ]);

    const after = Object.fromEntries(status(dir, '*').map((s) => [s.key, s]));
    expect(after['staging/events']?.partitions).toMatchObject({ materialized: 10, failed: 0, failedPartitions: [] });
    expect(after['marts/rolling']?.partitions).toMatchObject({ materialized: 10, missingRanges: [{ from: '2025-01-11', to: '2025-01-31', count: 21 }] });
    const [check] = await queryDuckDb(stateFiles(dir).warehouse, 'select count(*) as n, count(distinct (day, id)) as keys from staging.events');
    expect(check).toEqual({ n: 40, keys: 40 });
  });
});

describe('ranges and modes at the edges', () => {
  // Bug: isCalendarTime built the date with Date.UTC, which reads years 0-99 as 1900-1999, so
  // --from 0001-01-01 was "not a date".
  it('takes --from 0001-01-01 as a range starting at the first partition of the definition', () => {
    const dir = sandbox.writeProject('year-one', files());
    const result = runCli(['backfill', '--select', 'raw/events', '--from', '0001-01-01', '--to', '2025-01-03', '--project', dir]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/3\/3 partitions done/);
    const rows = querySqlite<{ partition_key: string }>(stateFiles(dir).storage, 'select partition_key from materializations order by partition_key');
    expect(rows.map((r) => r.partition_key)).toEqual(['2025-01-01', '2025-01-02', '2025-01-03']);

    // Bug: with nothing missing, --missing-only printed "0/0 partitions done".
    const again = runCli(['backfill', '--select', 'raw/events', '--from', '2025-01-01', '--to', '2025-01-03', '--missing-only', '--project', dir]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('Nothing to do: the selected asset has no missing partitions from 2025-01-01 to 2025-01-03 (raw/events)');
    const stale = runCli(['backfill', '--select', 'raw/events', '--from', '2025-01-01', '--to', '2025-01-03', '--stale-only', '--project', dir]);
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout.trim()).toBe('Nothing to do: the selected asset is fresh from 2025-01-01 to 2025-01-03 (raw/events)');
  });
});

describe('a backfill of static partitions', () => {
  // Bug: backfill-command.ts compares --from and --to as text before planning, so a range of
  // static keys in list order ("eu".."apac" of static(eu, us, apac)) is refused as reversed.
  it('takes --from and --to in the order the keys are listed', async () => {
    const dir = sandbox.writeProject('static-range', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({ name: 'static-range' }),
      'defs/raw/regions.sql': [
        '-- partitioned_by: static(eu, us, apac)',
        '-- partition_column: region',
        'select {{ partition_key }} as region, i as n from range(0, 3) t(i)',
      ].join('\n'),
    });
    const result = runCli(['backfill', '--select', '*', '--from', 'us', '--to', 'apac', '--project', dir]);
    expect(result.status, result.stderr).toBe(0);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select region, count(*) as n from raw.regions group by region order by region')).toEqual([
      { region: 'apac', n: 3 },
      { region: 'us', n: 3 },
    ]);
  });
});
