/**
 * `assets daemon` as a process: one tick with `--once` on a temp project (eager automation
 * builds what is missing), `assets daemon ticks` listing what it decided, Ctrl-C stopping a
 * running daemon, an edited seed rebuilt with its eager downstream without a restart, and bad schedule or automation definitions exiting 2 with a message naming
 * the asset or schedule and its file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, querySqlite, queryDuckDb, runCli, Sandbox, stackFrames, startCli, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = Sandbox.create();
});
afterAll(() => sandbox?.cleanup());

/** A project: a TypeScript root, an eager SQL asset below it, a schedule; `files` replaces or adds files. */
function project(name: string, files: Record<string, string> = {}): string {
  return sandbox.writeProject(name, {
    'package.json': '{ "type": "module", "private": true }',
    'strata.json': JSON.stringify({ name, daemon: { tickSeconds: 1 } }),
    'defs/raw/numbers.ts': `import { asset } from 'strata';
export const numbers = asset({
  key: 'raw/numbers',
  async materialize(ctx) {
    return { rowCount: await ctx.warehouse.replaceTable('select range as n from range(3)') };
  },
});
`,
    'defs/staging/doubled.sql': '-- automation: eager\nselect n * 2 as n from raw.numbers\n',
    'defs/schedules.ts': `import { schedule } from 'strata';
export const nightly = schedule({ name: 'nightly', cron: '30 4 * * *', timezone: 'Europe/Paris', selection: 'raw/*' });
`,
    ...files,
  });
}

/** Polls `done` every 100 ms, failing after `timeoutMs`. */
async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ticks the daemon has recorded in `storage` (0 before the file exists or is migrated). */
function tickCount(storage: string): number {
  try {
    return fs.existsSync(storage) ? querySqlite(storage, 'select id from daemon_ticks').length : 0;
  } catch {
    return 0;
  }
}

describe('assets daemon', () => {
  it('--once runs one tick and waits for its runs; ticks lists the decisions', async () => {
    const dir = project('once');
    const setup = runCli(['materialize', '--project', dir, '--select', 'raw/numbers']);
    expect(setup.status, setup.stderr).toBe(0);

    const once = runCli(['daemon', '--once', '--project', dir]);
    expect(once.status, once.stderr).toBe(0);
    expect(once.stdout).toMatch(/tick 1 at .*: 1 requested/);
    expect(once.stdout).toMatch(/requested\s+automation staging\/doubled: eager\(\): missing → run [0-9a-f]{8}/);
    expect(once.stdout).toMatch(/skipped\s+schedule nightly: first evaluation: the schedule starts now; next tick/);
    expect(once.stdout).toMatch(/run [0-9a-f]{8} success/);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select sum(n) as total from staging.doubled')).toEqual([{ total: 6 }]);
    const runs = querySqlite<{ trigger: string; status: string }>(stateFiles(dir).storage, 'select trigger, status from runs order by created_at');
    expect(runs).toEqual([
      { trigger: 'manual', status: 'success' },
      { trigger: 'automation', status: 'success' },
    ]);

    const again = runCli(['daemon', '--once', '--json', '--project', dir]);
    expect(again.status, again.stderr).toBe(0);
    expect(parseJson<{ tick: { id: number; runIds: string[] }; runs: unknown[] }>(again)).toMatchObject({ tick: { id: 2, runIds: [] }, runs: [] });

    const ticks = runCli(['daemon', 'ticks', '--project', dir]);
    expect(ticks.status, ticks.stderr).toBe(0);
    expect(ticks.stdout).toMatch(/tick 2 .* success\s+0 requested/);
    expect(ticks.stdout).toMatch(/tick 1 .* success\s+1 requested, 1 skipped\/other, 1 run/);
    expect(ticks.stdout.indexOf('tick 2')).toBeLessThan(ticks.stdout.indexOf('tick 1'));
    const json = parseJson<{ id: number; decisions: { source: string; name: string; action: string }[] }[]>(
      runCli(['daemon', 'ticks', '--limit', '1', '--json', '--project', dir]),
    );
    expect(json.map((t) => t.id)).toEqual([2]);
    const first = parseJson<{ decisions: { source: string; name: string; action: string; runId?: string }[]; runIds: string[] }[]>(
      runCli(['daemon', 'ticks', '--json', '--project', dir]),
    )[1];
    expect(first?.decisions.map((d) => [d.source, d.name, d.action])).toEqual([
      ['schedule', 'nightly', 'skipped'],
      ['automation', 'staging/doubled', 'requested'],
    ]);
    expect(first?.decisions[1]?.runId).toBe(first?.runIds[0]);
  });

  it('opens the warehouse with the settings of strata.json', async () => {
    const dir = project('settings', {
      'strata.json': JSON.stringify({ name: 'settings', daemon: { tickSeconds: 1 }, warehouse: { threads: 1, memoryLimit: '300MB' } }),
      'defs/main/settings.sql': "-- automation: eager\nselect current_setting('memory_limit') as m, current_setting('threads') as t\n",
    });
    const once = runCli(['daemon', '--once', '--project', dir]);
    expect(once.status, once.stderr).toBe(0);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select m, t from main.settings')).toEqual([{ m: '286.1 MiB', t: 1 }]);
  });

  it('leaves the warehouse to other commands while idle, reacts to their writes, stops on Ctrl-C and records the stop', async () => {
    const dir = project('signal');
    const daemon = startCli(['daemon', '--interval', '200ms', '--project', dir]);
    const { storage } = stateFiles(dir);
    await until('the daemon ticked twice', () => tickCount(storage) >= 2);
    const manual = runCli(['materialize', '--project', dir, '--select', 'raw/numbers']);
    expect(manual.status, manual.stderr).toBe(0);
    await until(
      'eager automation built staging/doubled',
      () => querySqlite(storage, `select id from runs where trigger = 'automation' and status = 'success'`).length === 1,
    );
    daemon.child.kill('SIGINT');
    const result = await daemon.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/daemon started: a tick every 0.2s/);
    expect(result.stderr).toMatch(/stopping: no more ticks/);
    expect(result.stdout).toMatch(/requested automation staging\/doubled: eager\(\): missing → run [0-9a-f]{8}/);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select count(*) as n from staging.doubled')).toEqual([{ n: 3 }]);
    const last = querySqlite<{ decisions: string }>(stateFiles(dir).storage, 'select decisions from daemon_ticks order by id desc limit 1')[0];
    expect(JSON.parse(last?.decisions ?? '[]')).toEqual([expect.objectContaining({ source: 'daemon', name: 'stop', reason: 'daemon stopped' })]);
  });
});

describe("the daemon's preflight", () => {
  it('refuses a run whose check names a column the table does not have, as assets materialize does: nothing written, the run recorded failed', async () => {
    const dir = project('preflight');
    const setup = runCli(['materialize', '--project', dir, '--select', '+staging/doubled']);
    expect(setup.status, setup.stderr).toBe(0);
    // Its new check names a missing column; new upstream data makes eager automation request it.
    fs.writeFileSync(path.join(dir, 'defs/staging/doubled.sql'), '-- automation: eager\n-- check: unique(m)\nselect n * 3 as n from raw.numbers\n');
    const upstream = runCli(['materialize', '--project', dir, '--select', 'raw/numbers']);
    expect(upstream.status, upstream.stderr).toBe(0);

    const once = runCli(['daemon', '--once', '--project', dir]);
    expect(once.status, once.stdout + once.stderr).toBe(1);
    const refusal = /check unique\(m\): staging\/doubled has no column "m" \(its columns: n\)/;
    expect(once.stdout).toMatch(/requested\s+automation staging\/doubled/);
    expect(once.stdout).toMatch(new RegExp(`run [0-9a-f]{8} failed: [\\s\\S]*${refusal.source}`));
    expect(once.stderr).toMatch(new RegExp(`run [0-9a-f]{8} failed before it started: [\\s\\S]*${refusal.source}`));
    expect(stackFrames(once.stderr + once.stdout)).toEqual([]);
    // Nothing written: the table is still the one built before the edit.
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select sum(n) as total from staging.doubled')).toEqual([{ total: 6 }]);
    const runs = querySqlite<{ trigger: string; status: string; error: string | null }>(
      stateFiles(dir).storage,
      `select trigger, status, error from runs where trigger = 'automation'`,
    );
    expect(runs).toEqual([{ trigger: 'automation', status: 'failed', error: expect.stringMatching(refusal) }]);

    // The refusal counts as a failure of the asset: the next tick retries it once, then the daemon stops asking.
    const retry = runCli(['daemon', '--once', '--project', dir]);
    expect(retry.status, retry.stdout + retry.stderr).toBe(1);
    expect(retry.stdout).toMatch(/requested\s+automation staging\/doubled: eager\(\): retry: last attempt failed in run [0-9a-f]{8}/);
    const settled = runCli(['daemon', '--once', '--project', dir]);
    expect(settled.status, settled.stdout + settled.stderr).toBe(0);
    expect(settled.stdout).toMatch(/skipped\s+automation staging\/doubled: eager\(\): failed, not retried again/);
    expect(querySqlite(stateFiles(dir).storage, `select id from runs where trigger = 'automation'`)).toHaveLength(2);

    // The CLI refuses the same run with the same words.
    const manual = runCli(['materialize', '--project', dir, '--select', 'staging/doubled']);
    expect(manual.status).toBe(2);
    expect(manual.stderr).toMatch(refusal);
  });
});

describe('seeds and the daemon', () => {
  it('a running daemon notices an edited seed: it rebuilds the seed and its eager downstream, without a restart', async () => {
    const dir = sandbox.writeProject('seeded', {
      'strata.json': JSON.stringify({ name: 'seeded' }),
      'seeds/fees.csv': 'code,fee\ncard,1\n',
      'defs/marts/fee_total.sql': '-- automation: eager\nselect sum(fee) as total from seeds.fees\n',
    });
    const setup = runCli(['materialize', '--select', '+marts/fee_total', '--project', dir]);
    expect(setup.status, setup.stderr).toBe(0);
    const { storage, warehouse } = stateFiles(dir);
    const daemon = startCli(['daemon', '--interval', '200ms', '--project', dir]);
    try {
      await until('the daemon ticked twice', () => tickCount(storage) >= 2);
      expect(querySqlite(storage, `select id from runs where trigger = 'automation'`)).toEqual([]);
      fs.writeFileSync(path.join(dir, 'seeds', 'fees.csv'), 'code,fee\ncard,1\ncash,2\n');
      await until(
        'automation rebuilt the seed and the mart',
        () => querySqlite(storage, `select id from runs where trigger = 'automation' and status = 'success'`).length === 1,
        15_000,
      );
    } finally {
      daemon.child.kill('SIGINT');
    }
    const result = await daemon.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/requested\s+automation seeds\/fees: seed file changed, read by eager\(\) marts\/fee_total → run [0-9a-f]{8}/);
    expect(result.stdout).toMatch(/requested\s+automation marts\/fee_total: eager\(\): upstream requested in this tick: seeds\/fees → run [0-9a-f]{8}/);
    expect(await queryDuckDb(warehouse, 'select total::integer as total from marts.fee_total')).toEqual([{ total: 3 }]);
    const stale = runCli(['status', '--stale', '--json', '--project', dir]);
    expect(parseJson(stale)).toEqual([]);
  });
});

describe('bad schedules and automation exit 2, naming the asset or schedule and the file', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'sql-cron',
      { 'defs/staging/doubled.sql': "-- automation: on_cron('30 25 * * *', 'Europe/Paris')\nselect n from raw.numbers\n" },
      /staging\/doubled in defs\/staging\/doubled\.sql: automation "on_cron\('30 25 \* \* \*', 'Europe\/Paris'\)": on_cron: cron "30 25 \* \* \*"/,
    ],
    [
      'sql-syntax',
      { 'defs/staging/doubled.sql': '-- automation: eagerly\nselect n from raw.numbers\n' },
      /staging\/doubled in defs\/staging\/doubled\.sql: automation "eagerly": unknown condition "eagerly"/,
    ],
    [
      'ts-automation',
      {
        'defs/raw/numbers.ts':
          "import { asset, onCron } from 'strata';\nexport const n = asset({ key: 'raw/numbers', automation: onCron('0 5 * * *', 'Mars/Base'), materialize: () => undefined });\n",
      },
      /raw\/numbers in defs\/raw\/numbers\.ts: automation: on_cron: unknown time zone "Mars\/Base"/,
    ],
    [
      'schedule-cron',
      { 'defs/schedules.ts': "import { schedule } from 'strata';\nexport const s = schedule({ name: 'nightly', cron: '30 4 * *', selection: 'raw/*' });\n" },
      /defs\/schedules\.ts: schedule "nightly": cron "30 4 \* \*" must have 5 fields/,
    ],
    [
      'schedule-selection',
      {
        'defs/schedules.ts':
          "import { schedule } from 'strata';\nexport const s = schedule({ name: 'nightly', cron: '30 4 * * *', selection: 'staging/doubld' });\n",
      },
      /defs\/schedules\.ts: schedule "nightly": selection "staging\/doubld": unknown asset "staging\/doubld".*did you mean "staging\/doubled"/,
    ],
  ];
  it.each(cases)('%s', (name, files, message) => {
    const dir = project(`bad-${name}`, files);
    const result = runCli(['daemon', '--once', '--project', dir]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(stackFrames(result.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(dir, '.strata', 'warehouse.duckdb'))).toBe(false);
  });
});
