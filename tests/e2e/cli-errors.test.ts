/**
 * The `assets` CLI on bad input and on a failing asset: bad input exits 2 with one clear
 * message and writes no warehouse or storage; a run that fails exits 1, reports what was
 * skipped, and `runs show` holds the error. No user error prints a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  editFile,
  parseJson,
  querySqlite,
  queryDuckDb,
  runCli,
  Sandbox,
  stackFrames,
  startCli,
  stateFiles,
  waitForFile,
  type CliResult,
} from './cli-harness.ts';

let sandbox: Sandbox;
/** An untouched copy of the example that is never materialized. */
let example: string;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(2);
  example = sandbox.copyExample('example');
});

afterAll(() => sandbox?.cleanup());

/** A bad-input invocation: exit 2, nothing on stdout, one message on stderr, no stack, no state written. */
function expectUserError(result: CliResult, project: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^error: /);
  expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
  expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
}

describe('bad input exits 2 and writes nothing', () => {
  it('SQL assets that read each other: names the cycle and its files', () => {
    const project = sandbox.writeProject('cycle', {
      'strata.json': '{ "name": "cycle" }',
      'defs/loop/a.sql': 'select * from loop.b\n',
      'defs/loop/b.sql': 'select * from loop.a\n',
      'defs/loop/c.sql': 'select 1 as fine\n',
    });
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expectUserError(result, project);
    expect(result.stderr).toContain('1 definition error');
    const cycle = result.stderr.split('\n').find((line) => line.includes('dependency cycle')) ?? '';
    expect(cycle).toMatch(/loop\/a\b.* -> loop\/b\b.* -> loop\/a\b/);
    expect(cycle).toContain('defs/loop/a.sql');
    expect(cycle).toContain('defs/loop/b.sql');
    expect(cycle).not.toContain('loop/c');
  });

  it('an unknown key in --select: suggests the closest key', () => {
    const result = runCli(['materialize', '--select', '+marts/fct_sale', '--project', example]);
    expectUserError(result, example);
    expect(result.stderr).toContain('unknown asset "marts/fct_sale"');
    expect(result.stderr).toContain('did you mean "marts/fct_sales"');
  });

  it('an unknown flag', () => {
    const result = runCli(['materialize', '--select', 'marts/*', '--frobnicate', '--project', example]);
    expectUserError(result, example);
    expect(result.stderr).toContain("Unknown option '--frobnicate'");
    expect(result.stderr).toContain('assets materialize --help');
  });

  it("a strata.json that is not JSON: the message alone, and with STRATA_DEBUG=1 the stack and its cause's", () => {
    const project = sandbox.writeProject('not-json', { 'strata.json': '{ "name": ' });
    const result = runCli(['list', '--project', project]);
    expectUserError(result, project);
    expect(result.stderr).toMatch(/^error: .*strata\.json is not valid JSON: /);
    const debug = runCli(['list', '--project', project], { STRATA_DEBUG: '1' });
    expect(debug.status).toBe(2);
    expect(debug.stderr).toMatch(/^ConfigError: .*strata\.json is not valid JSON: /);
    expect(debug.stderr).toMatch(/\ncaused by: SyntaxError: /);
    expect(stackFrames(debug.stderr).length).toBeGreaterThan(1);
    expect(debug.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: .*strata\.json is not valid JSON: /);
  });

  it('materialize without --select', () => {
    const result = runCli(['materialize', '--project', example]);
    expectUserError(result, example);
    expect(result.stderr).toContain('needs --select');
  });

  it('an unknown command and an unknown run id', () => {
    const command = runCli(['materialise', '--project', example]);
    expect(command.status).toBe(2);
    expect(command.stderr).toContain('unknown command "materialise"');
    expect(stackFrames(command.stderr)).toEqual([]);

    const project = sandbox.copyExample('no-runs');
    const run = runCli(['runs', 'show', 'deadbeef', '--project', project]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no run with id "deadbeef"');
    expect(stackFrames(run.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
  });

  it('a SQL file that does not parse: names the file', () => {
    const project = sandbox.copyExample('unparsable', (dir) =>
      editFile(path.join(dir, 'defs/staging/payments.sql'), 'with typed as (\n  select', 'with typed as (\n  selec t frm ('),
    );
    const result = runCli(['materialize', '--select', '+marts/*', '--project', project]);
    expectUserError(result, project);
    expect(result.stderr).toMatch(/staging\/payments in defs\/staging\/payments\.sql: SQL does not parse: Parser Error/);
  });

  it('a SQL file that does not parse is the only error: assets reading it are not reported as reading an unknown asset', () => {
    const project = sandbox.copyExample('unparsable-read', (dir) =>
      editFile(path.join(dir, 'defs/staging/payments.sql'), 'with typed as (\n  select', 'with typed as (\n  selec t frm ('),
    );
    const result = runCli(['list', '--project', project]);
    expect(result.status).toBe(2);
    // staging/payments exists (it is just broken): marts/payment_mix_daily depends on it.
    expect(result.stderr).not.toContain('unknown asset "staging/payments"');
    expect(result.stderr).toContain('1 definition error:');
  });
});

describe('a storage or warehouse path that cannot be a file', () => {
  const files = {
    'package.json': '{"type":"module"}\n',
    'strata.json': '{ "name": "paths" }',
    'defs/raw/one.ts': `import { asset } from 'strata';\nexport const one = asset({ key: 'raw/one', materialize: (ctx) => ctx.warehouse.replaceTable('select 1 as x').then(() => undefined) });\n`,
  };

  it('STRATA_STORAGE=/tmp, a folder: exit 2 naming the variable and the path', () => {
    const project = sandbox.writeProject('storage-folder', files);
    const result = runCli(['materialize', '--select', '*', '--project', project], { STRATA_STORAGE: '/tmp' });
    expectUserError(result, project);
    expect(result.stderr).toContain('STRATA_STORAGE is /tmp, a folder');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('STRATA_WAREHOUSE below a file, and strata.json "storage" that is a folder: exit 2 naming each', () => {
    const project = sandbox.writeProject('warehouse-under-file', { ...files, 'notes.txt': 'a file, not a folder' });
    const warehouse = runCli(['materialize', '--select', '*', '--project', project], { STRATA_WAREHOUSE: path.join(project, 'notes.txt', 'w.duckdb') });
    expectUserError(warehouse, project);
    expect(warehouse.stderr).toContain(
      `STRATA_WAREHOUSE is ${path.join(project, 'notes.txt', 'w.duckdb')}, but ${path.join(project, 'notes.txt')} is a file, not a folder`,
    );

    fs.writeFileSync(path.join(project, 'strata.json'), '{ "name": "paths", "storage": "defs" }');
    const storage = runCli(['materialize', '--select', '*', '--project', project]);
    expectUserError(storage, project);
    expect(storage.stderr).toContain(`"storage" in ${path.join(project, 'strata.json')} is ${path.join(project, 'defs')}, a folder`);
  });
});

describe('global options before the command name', () => {
  it('--project, --json and --help may come first; anything else there is refused, exit 2', () => {
    const project = sandbox.writeProject('tiny-first', { 'strata.json': '{ "name": "tiny" }', 'defs/main/one.sql': 'select 1 as id\n' });
    const listed = runCli(['--project', project, 'list']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('main/one');
    const json = runCli([`--project=${project}`, '--json', 'list']);
    expect(json.status, json.stderr).toBe(0);
    expect(parseJson<{ key: string }[]>(json).map((a) => a.key)).toEqual(['main/one']);

    const help = runCli(['--project', project, '--help', 'runs']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: assets runs/);
    expect(runCli(['--help']).stdout).toMatch(/^Usage: assets <command>/);

    const unknown = runCli(['--frobnicate', 'list', '--project', project]);
    expectUserError(unknown, project);
    expect(unknown.stderr).toContain('unknown option "--frobnicate" before the command');
    const missing = runCli(['--project']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--project needs a folder');
  });
});

describe('a failing asset', () => {
  let project: string;
  let result: CliResult;

  beforeAll(() => {
    // staging/orders now fails at run time: order ids like L001-20250101-0001 are not integers.
    project = sandbox.copyExample('failing', (dir) =>
      editFile(
        path.join(dir, 'defs/staging/orders.sql'),
        'upper(trim(order_id)) as order_id,',
        'upper(trim(order_id)) as order_id, cast(order_id as integer) / 2 as broken,',
      ),
    );
    result = runCli(['materialize', '--select', '+marts/* and not marts/monthly_revenue_by_location', '--partition', '2025-01-01', '--project', project]);
  });

  /** The progress line of an asset's step (`key@2025-01-01` for the partitioned ones). */
  const line = (key: string) => result.stdout.split('\n').find((l) => new RegExp(` ${key}(@2025-01-01)? `).test(l)) ?? '';

  it('exits 1, shows the error and reports everything downstream as skipped', () => {
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toBe('');
    expect(line('staging/orders')).toMatch(/✗ staging\/orders@2025-01-01\s+Conversion Error/);
    // Items and payments take their business date from the orders, so they wait for them too.
    for (const key of ['staging/order_items', 'staging/payments', 'marts/fct_sales', 'marts/daily_revenue_by_location', 'marts/payment_mix_daily']) {
      expect(line(key), key).toMatch(new RegExp(`- ${key}@2025-01-01\\s+skipped: upstream staging/orders@2025-01-01 did not succeed`));
    }
    // Siblings that do not read staging/orders still ran.
    for (const key of ['raw/orders', 'staging/time_entries', 'marts/dim_menu_items', 'marts/labor_cost_by_location_daily']) {
      expect(line(key), key).toMatch(new RegExp(`✓ ${key}(@2025-01-01)?\\s`));
    }
    expect(result.stdout).toMatch(/Run [0-9a-f]{8} failed: 12 materialized, [\d,]+ rows, 1 failed, 5 skipped in /);
    expect(result.stdout).toMatch(/details: assets runs show [0-9a-f]{8}/);
    expect(stackFrames(result.stdout)).toEqual([]);
  });

  it('runs show holds the error', () => {
    const prefix = /details: assets runs show ([0-9a-f]{8})/.exec(result.stdout)?.[1] ?? 'missing';
    const human = runCli(['runs', 'show', prefix, '--project', project]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/Run [0-9a-f-]{36}\s+failed/);
    expect(human.stdout).toContain('1 step failed: staging/orders@2025-01-01');
    expect(human.stdout).toMatch(/step_failure\s+staging\/orders@2025-01-01\s+staging\/orders@2025-01-01 failed: Conversion Error/);
    expect(human.stdout.match(/step_skipped/g)).toHaveLength(5);
    expect(stackFrames(human.stdout + human.stderr)).toEqual([]);

    const json = parseJson<{
      run: { status: string; error: string };
      events: { type: string; assetKey: string | null; partition: string | null; data: Record<string, unknown> | null }[];
    }>(runCli(['runs', 'show', prefix, '--json', '--project', project]));
    expect(json.run).toMatchObject({ status: 'failed', error: '1 step failed: staging/orders@2025-01-01' });
    const failure = json.events.find((e) => e.type === 'step_failure');
    expect(failure).toMatchObject({ assetKey: 'staging/orders', partition: '2025-01-01' });
    expect(String(failure?.data?.error)).toMatch(/Conversion Error: Could not convert string 'L\d{3}-/);
    expect(
      json.events
        .filter((e) => e.type === 'step_skipped')
        .map((e) => e.assetKey)
        .sort(),
    ).toEqual(['marts/daily_revenue_by_location', 'marts/fct_sales', 'marts/payment_mix_daily', 'staging/order_items', 'staging/payments']);
    expect(json.events.at(-1)?.type).toBe('run_failure');
  });

  it('leaves no table for the failed asset or anything downstream of it', async () => {
    const rows = await queryDuckDb(stateFiles(project).warehouse, `select table_schema || '.' || table_name as name from information_schema.tables`);
    const names = rows.map((r) => r.name);
    expect(names).toContain('raw.orders');
    expect(names).toContain('staging.time_entries');
    for (const missing of ['staging.orders', 'staging.order_items', 'marts.fct_sales', 'marts.daily_revenue_by_location', 'marts.payment_mix_daily'])
      expect(names).not.toContain(missing);
  });
});

describe('a day without landing files', () => {
  it('fails the raw partition naming the missing file; a whole-year step names the first files and counts the rest', async () => {
    const project = sandbox.copyExample('missing-day');
    const day = runCli(['materialize', '--select', 'raw/orders', '--partition', '2025-01-03', '--project', project]);
    expect(day.status, day.stderr).toBe(1);
    expect(day.stdout).toMatch(
      /✗ raw\/orders@2025-01-03\s+raw\/orders: missing landing file for 1 of 1 partition\(s\): orders_2025-01-03\.csv \(in .*landing\)/,
    );
    expect(stackFrames(day.stdout + day.stderr)).toEqual([]);

    // Without --partition: every day of 2025 in one single-run step; the sandbox has two days of files.
    const year = runCli(['materialize', '--select', 'raw/orders', '--project', project]);
    expect(year.status, year.stderr).toBe(1);
    expect(year.stdout).toMatch(
      /✗ raw\/orders@2025-01-01\.\.2025-12-31\s+raw\/orders: missing landing files for 363 of 365 partition\(s\): orders_2025-01-03\.csv, orders_2025-01-04\.csv, orders_2025-01-05\.csv, orders_2025-01-06\.csv, orders_2025-01-07\.csv and 358 more/,
    );
    // Nothing was written: the step rolled back, the table does not exist.
    const tables = await queryDuckDb(stateFiles(project).warehouse, "select table_name from information_schema.tables where table_schema <> '_strata'");
    expect(tables).toEqual([]);

    const status = parseJson<{ key: string; state: string; partitions: { failed: number; materialized: number } | null }[]>(
      runCli(['status', '--select', 'raw/orders', '--json', '--project', project]),
    );
    expect(status).toEqual([
      expect.objectContaining({ key: 'raw/orders', state: 'failed', partitions: expect.objectContaining({ failed: 365, materialized: 0 }) }),
    ]);
  });
});

describe('Ctrl-C during a run', () => {
  it('cancels: the running step rolls back, the rest is skipped, the run is recorded as canceled, exit 1', async () => {
    const project = sandbox.writeProject('interrupted', {
      'strata.json': '{ "name": "interrupted", "concurrency": 1 }',
      'package.json': '{ "type": "module" }',
      // Writes its table, tells the test it is running, then waits (like a long poll) until canceled.
      'defs/raw/slow.ts': `import { writeFileSync } from 'node:fs';
import { asset } from 'strata';
export const slow = asset({
  key: 'raw/slow',
  async materialize(ctx) {
    await ctx.warehouse.replaceTable("select 'half-done' as state");
    writeFileSync(new URL('../../started.marker', import.meta.url), 'started');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 60_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('interrupted'));
      }, { once: true });
    });
  },
});
`,
      'defs/staging/after_slow.sql': 'select * from raw.slow\n',
    });
    const { child, done } = startCli(['materialize', '--select', '*', '--project', project]);
    const exitedEarly = done.then((r) => Promise.reject(new Error(`the CLI exited before the step started: ${JSON.stringify(r)}`)));
    try {
      await Promise.race([waitForFile(path.join(project, 'started.marker')), exitedEarly]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    exitedEarly.catch(() => undefined);
    child.kill('SIGINT');
    const result = await done;

    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain('canceling: rolling back running steps');
    expect(result.stdout).toMatch(/Run [0-9a-f]{8} canceled: 0 materialized/);
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);

    const runs = querySqlite<{ status: string; error: string | null }>(stateFiles(project).storage, 'select status, error from runs');
    expect(runs).toEqual([{ status: 'canceled', error: 'run canceled' }]);
    const steps = querySqlite<{ type: string; asset_key: string | null }>(
      stateFiles(project).storage,
      `select type, asset_key from events where type in ('step_failure', 'step_skipped', 'run_canceled') order by id`,
    );
    expect(steps).toEqual([
      { type: 'step_failure', asset_key: 'raw/slow' },
      { type: 'step_skipped', asset_key: 'staging/after_slow' },
      { type: 'run_canceled', asset_key: null },
    ]);
    expect(querySqlite(stateFiles(project).storage, 'select * from materializations')).toEqual([]);
    const tables = await queryDuckDb(stateFiles(project).warehouse, "select table_name from information_schema.tables where table_schema <> '_strata'");
    expect(tables).toEqual([]);
  });
});
