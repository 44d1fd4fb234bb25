/**
 * `assets query "SQL"`: reads the warehouse of a small materialized project, read-only; bad SQL
 * and writes exit 2 with DuckDB's message; while another process holds the warehouse it waits,
 * then gives up naming that process.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdWarehouse } from '../warehouse-holder.ts';
import { parseJson, queryDuckDb, runCli, Sandbox, stackFrames, startCli, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('shop', {
    'strata.json': '{ "name": "shop" }',
    'defs/main/orders.sql': `select range as id, (range * 1.25)::decimal(10, 2) as amount, date '2025-01-01' + range::int as day,
  timestamp '2025-01-01 10:00:00' as created, 9007199254740993::bigint as big, case when range = 1 then null else 'x' end as note
from range(3)\n`,
  });
  const built = runCli(['materialize', '--select', '*', '--project', project]);
  expect(built.status, built.stderr).toBe(0);
});

afterAll(() => sandbox?.cleanup());

describe('assets query', () => {
  it('prints an aligned table of the rows', () => {
    const result = runCli(['query', 'select id, amount, day, note from main.orders order by id', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      ['id  amount  day         note', '0   0.00    2025-01-01  x', '1   1.25    2025-01-02  NULL', '2   2.50    2025-01-03  x', '(3 rows)', ''].join('\n'),
    );
  });

  it('--json: an array of row objects; exact numbers as numbers, wider ones as strings, times as ISO text', () => {
    const rows = parseJson<Record<string, unknown>[]>(runCli(['query', 'from main.orders order by id', '--json', '--project', project]));
    expect(rows[1]).toEqual({ id: 1, amount: 1.25, day: '2025-01-02', created: '2025-01-01T10:00:00', big: '9007199254740993', note: null });
    expect(parseJson(runCli(['--project', project, 'query', 'select count(*) as n from main.orders', '--json']))).toEqual([{ n: 3 }]);
  });

  it('--limit: prints the first rows and says on stderr that there were more', () => {
    const result = runCli(['query', 'from range(10)', '--limit', '4', '--json', '--project', project]);
    expect(parseJson<unknown[]>(result)).toHaveLength(4);
    expect(result.stderr).toContain('only the first 4 rows are shown');
  });

  it('refuses a write (the warehouse is opened read-only) and bad SQL with DuckDB’s message, exit 2', async () => {
    const before = await queryDuckDb(stateFiles(project).warehouse, 'select count(*) as n from main.orders');
    for (const sql of ['delete from main.orders', 'create table main.extra as select 1 as x']) {
      const write = runCli(['query', sql, '--project', project]);
      expect(write.status).toBe(2);
      expect(write.stdout).toBe('');
      expect(write.stderr).toMatch(/^error: assets query only reads \(the warehouse is opened read-only\): .*read-only mode/);
    }
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select count(*) as n from main.orders')).toEqual(before);

    const syntax = runCli(['query', 'selec 1', '--project', project]);
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toMatch(/^error: Parser Error: syntax error at or near "selec"/);
    const unknown = runCli(['query', 'from main.nope', '--project', project]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Catalog Error: Table with name nope does not exist');
    expect(stackFrames(syntax.stderr + unknown.stderr)).toEqual([]);
  });

  it('bad arguments and a project with no warehouse yet exit 2 and create nothing', () => {
    expect(runCli(['query', '--project', project]).stderr).toContain('assets query needs one SQL statement');
    expect(runCli(['query', 'select 1', '--wait', 'soon', '--project', project]).stderr).toContain('--wait must be a duration');
    const empty = sandbox.writeProject('empty', { 'strata.json': '{ "name": "empty" }', 'defs/main/one.sql': 'select 1 as id\n' });
    const result = runCli(['query', 'select 1', '--project', empty]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('there is no warehouse');
    expect(fs.existsSync(stateFiles(empty).warehouse)).toBe(false);
  });

  it('waits while another process holds the warehouse, then gives up naming it (exit 1); runs once it is free', async () => {
    const holder = await holdWarehouse(stateFiles(project).warehouse);
    let released = false;
    try {
      const started = Date.now();
      const busy = runCli(['query', 'select 1 as one', '--wait', '1s', '--project', project]);
      expect(busy.status).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(busy.stderr).toMatch(/waiting up to 1s for the warehouse .*warehouse\.duckdb: process \d+ is using it/);
      expect(busy.stderr).toMatch(/error: the warehouse .* is in use by process \d+; gave up after 1s/);

      const waiting = startCli(['query', 'select 1 as one', '--json', '--wait', '30s', '--project', project]);
      await new Promise<void>((resolve) => waiting.child.stderr?.on('data', (chunk: Buffer) => chunk.toString().includes('is using it') && resolve()));
      holder.release();
      released = true;
      const done = await waiting.done;
      expect(done.status, done.stderr).toBe(0);
      expect(parseJson(done)).toEqual([{ one: 1 }]);
    } finally {
      if (!released) holder.release();
    }
  });
});
