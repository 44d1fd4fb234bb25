/**
 * Runs in parallel, through the real `assets` CLI: two `assets materialize` processes on
 * overlapping selections of one project both finish (the second waits for the DuckDB file and
 * says which process and run holds it), and a materialize killed with SIGKILL mid-run is found
 * dead once its heartbeat is older than the timeout (short here, from strata.json), marked
 * failed with its leases released, and the next run succeeds. A process that dies right after a
 * step's DuckDB transaction committed, before storage recorded the step, leaves the warehouse's
 * own record of the commit: the next run records it, exactly once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, querySqlite, runCli, Sandbox, startCli, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox.cleanup());

/** A three-asset chain whose TypeScript root logs `started`, then waits while the file `slow` exists in the project. */
function project(name: string, heartbeat?: { interval: string; timeout: string }): string {
  return sandbox.writeProject(name, {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name, concurrency: 2, ...(heartbeat ? { heartbeat } : {}) }),
    'defs/raw/numbers.ts': [
      `import { existsSync } from 'node:fs';`,
      `import { asset } from 'strata';`,
      ``,
      `const SLOW = new URL('../../slow', import.meta.url);`,
      ``,
      `export const numbers = asset({`,
      `  key: 'raw/numbers',`,
      `  async materialize(ctx) {`,
      `    ctx.log.info('started');`,
      `    const until = Date.now() + 20_000;`,
      `    while (existsSync(SLOW) && Date.now() < until && !ctx.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50));`,
      `    return { rowCount: await ctx.warehouse.replaceTable('select i as n from range(1, 101) t(i)') };`,
      `  },`,
      `});`,
    ].join('\n'),
    'defs/staging/doubled.sql': 'select n * 2 as n2 from raw.numbers',
    'defs/marts/total.sql': 'select sum(n2) as total, count(*) as n from staging.doubled',
    slow: '',
  });
}

/** Resolves once the process's stdout (or `stream`) contains `text`; rejects if the process exits first. */
function printed(started: ReturnType<typeof startCli>, text: string, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`"${text}" not printed within ${timeoutMs} ms:\n${buffer}`)), timeoutMs);
    started.child[stream]?.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void started.done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`exited (${r.status}) before printing "${text}":\n${r.stdout}\n${r.stderr}`));
    });
  });
}

interface RunRow {
  id: string;
  status: string;
  error: string | null;
  heartbeat_at: number | null;
  pid: number | null;
}

describe('two materialize processes on one project', () => {
  it('both finish: the second waits for the warehouse, saying who holds it, then runs', { timeout: 90_000 }, async () => {
    const dir = project('parallel');
    const first = startCli(['materialize', '--project', dir, '--select', '+marts/total']);
    await printed(first, 'raw/numbers: started');
    const second = startCli(['materialize', '--project', dir, '--select', 'raw/numbers+']);
    // The second one finds the DuckDB file locked while the first is in its slow step.
    await printed(second, 'waiting for the warehouse', 'stderr');
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few retries
    fs.rmSync(path.join(dir, 'slow'));
    const [a, b] = await Promise.all([first.done, second.done]);

    expect(a.status, a.stdout + a.stderr).toBe(0);
    expect(b.status, b.stdout + b.stderr).toBe(0);
    for (const result of [a, b]) expect(result.stdout + result.stderr).not.toMatch(/database is locked|SQLITE_BUSY|Could not set lock|warehouse is in use/i);
    const runs = querySqlite<RunRow>(stateFiles(dir).storage, 'select id, status, error, heartbeat_at, pid from runs order by created_at');
    expect(runs.map((r) => r.status)).toEqual(['success', 'success']);
    const waits = b.stderr.split('\n').filter((line) => line.includes('waiting for the warehouse'));
    expect(waits).toHaveLength(1);
    expect(waits[0]).toContain(`process ${first.child.pid} (run ${runs[0]?.id.slice(0, 8)}, +marts/total) is using it`);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select total, n from marts.total')).toEqual([{ total: 10_100, n: 100 }]);
    expect(querySqlite(stateFiles(dir).storage, 'select asset_key, count(*) as n from materializations group by 1 order by 1')).toEqual([
      { asset_key: 'marts/total', n: 2 },
      { asset_key: 'raw/numbers', n: 2 },
      { asset_key: 'staging/doubled', n: 2 },
    ]);
    expect(querySqlite(stateFiles(dir).storage, 'select * from leases')).toEqual([]);
  });
});

describe('a materialize process killed with SIGKILL', () => {
  it('is marked failed once its heartbeat is older than the timeout, its leases released, and the next run succeeds', { timeout: 90_000 }, async () => {
    const dir = project('killed', { interval: '250ms', timeout: '5s' });
    const { storage } = stateFiles(dir);
    const doomed = startCli(['materialize', '--project', dir, '--select', '+marts/total']);
    await printed(doomed, 'raw/numbers: started');
    await new Promise((resolve) => setTimeout(resolve, 600)); // a heartbeat or two
    doomed.child.kill('SIGKILL');
    await doomed.done;
    const killedAt = Date.now();
    const [dead] = querySqlite<RunRow>(storage, 'select id, status, error, heartbeat_at, pid from runs');
    expect(dead).toMatchObject({ status: 'running', pid: doomed.child.pid });
    expect(dead?.heartbeat_at).toBeGreaterThan(killedAt - 5_000);
    expect(querySqlite(storage, 'select asset_key, run_id from leases')).toEqual([{ asset_key: 'raw/numbers', run_id: dead?.id }]);

    // Within the timeout it still counts as alive: an unrelated run leaves it alone.
    fs.rmSync(path.join(dir, 'slow'));
    const early = runCli(['materialize', '--project', dir, '--select', 'staging/doubled', '--json']);
    if (Date.now() - (dead?.heartbeat_at ?? 0) < 4_500) {
      expect(early.stderr).not.toContain('marked failed');
      expect(querySqlite<RunRow>(storage, 'select status from runs where id = ?', dead?.id)[0]?.status).toBe('running');
    }

    // Past the timeout, the next materialize reaps it first, then runs everything (on a busy machine the
    // unrelated run may already have come past the timeout and reaped it: one of the two says so).
    const wait = (dead?.heartbeat_at ?? 0) + 5_100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const next = runCli(['materialize', '--project', dir, '--select', '+marts/total']);
    expect(next.status, next.stdout + next.stderr).toBe(0);
    const reaped = new RegExp(`run ${dead?.id.slice(0, 8)} marked failed: process died: no heartbeat since \\S+ \\(timeout 5s\\); released 1 lease`, 'g');
    expect([...`${early.stderr}\n${next.stderr}`.matchAll(reaped)]).toHaveLength(1);
    const after = querySqlite<RunRow>(storage, 'select id, status, error, heartbeat_at, pid from runs where id = ?', dead?.id)[0];
    expect(after?.status).toBe('failed');
    expect(after?.error).toMatch(/^process died: no heartbeat since \d{4}-\d\d-\d\dT/);
    expect(querySqlite(storage, "select type, message from events where run_id = ? and type like 'run_%' order by id", dead?.id)).toEqual([
      { type: 'run_start', message: expect.any(String) },
      { type: 'run_failure', message: after?.error },
    ]);
    expect(querySqlite(storage, 'select * from leases')).toEqual([]);
    expect(await queryDuckDb(stateFiles(dir).warehouse, 'select total, n from marts.total')).toEqual([{ total: 10_100, n: 100 }]);
    const shown = runCli(['runs', 'show', dead?.id.slice(0, 8) ?? '', '--project', dir]);
    expect(shown.stdout).toContain('process died: no heartbeat since');
  });
});

describe('a materialize process sent SIGTERM', () => {
  it('rolls back, records the run as canceled, releases its leases and exits cleanly', { timeout: 60_000 }, async () => {
    const dir = project('terminated', { interval: '100ms', timeout: '5s' });
    const { storage } = stateFiles(dir);
    const started = startCli(['materialize', '--project', dir, '--select', '+marts/total']);
    await printed(started, 'raw/numbers: started');
    expect(querySqlite(storage, 'select asset_key from leases')).toEqual([{ asset_key: 'raw/numbers' }]);
    started.child.kill('SIGTERM');
    const result = await started.done;
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/Run [0-9a-f]{8} canceled: 0 materialized/);
    expect(querySqlite(storage, 'select status, error from runs')).toEqual([{ status: 'canceled', error: 'run canceled' }]);
    expect(querySqlite(storage, 'select * from leases')).toEqual([]);
    expect(querySqlite(storage, 'select * from materializations')).toEqual([]);
  });
});

describe('a materialize process sent Ctrl-C while a TypeScript step keeps a timer alive', () => {
  it('records the run canceled and exits with 1 within 3 s of the one Ctrl-C', { timeout: 60_000 }, async () => {
    const dir = sandbox.writeProject('timer', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({ name: 'timer' }),
      // Ignores ctx.signal: an interval keeps the event loop alive and the step never settles.
      'defs/raw/ticking.ts': [
        `import { asset } from 'strata';`,
        ``,
        `export const ticking = asset({`,
        `  key: 'raw/ticking',`,
        `  async materialize(ctx) {`,
        `    setInterval(() => {}, 1000);`,
        `    ctx.log.info('started');`,
        `    await new Promise(() => {});`,
        `  },`,
        `});`,
      ].join('\n'),
    });
    const started = startCli(['materialize', '--project', dir, '--select', 'raw/ticking']);
    await printed(started, 'raw/ticking: started');
    const signaledAt = Date.now();
    started.child.kill('SIGINT');
    const exited = await Promise.race([started.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 6_000))]);
    if (exited === undefined) started.child.kill('SIGKILL');
    expect(exited, 'still running 6 s after Ctrl-C').toBeDefined();
    expect(Date.now() - signaledAt).toBeLessThan(3_000);
    expect(exited?.status, exited?.stderr).toBe(1);
    expect(exited?.stdout).toMatch(/Run [0-9a-f]{8} canceled/);
    expect(querySqlite(stateFiles(dir).storage, 'select status, error from runs')).toEqual([{ status: 'canceled', error: 'run canceled' }]);
  });
});

describe('a materialize process killed between the warehouse commit and the storage record', () => {
  it('leaves published data that the next run records exactly once: the asset is fresh and not rebuilt', { timeout: 90_000 }, async () => {
    const dir = project('crashed', { interval: '250ms', timeout: '2s' });
    fs.rmSync(path.join(dir, 'slow'));
    const { storage, warehouse } = stateFiles(dir);
    const crashed = runCli(['materialize', '--project', dir, '--select', '+marts/total'], { STRATA_FAULT: 'after-warehouse-commit' });
    expect(crashed.status, crashed.stdout + crashed.stderr).toBeNull(); // killed by SIGKILL
    const [dead] = querySqlite<RunRow>(storage, 'select id, status, error, heartbeat_at, pid from runs');
    expect(dead?.status).toBe('running');
    // raw/numbers is published in the warehouse, with the warehouse's record of its commit; storage has nothing.
    expect(await queryDuckDb(warehouse, 'select count(*) as n from raw.numbers')).toEqual([{ n: 100 }]);
    expect(await queryDuckDb(warehouse, 'select run_id, step_id from _strata.commits')).toEqual([{ run_id: dead?.id, step_id: 'raw/numbers' }]);
    expect(querySqlite(storage, 'select * from materializations')).toEqual([]);

    // The next run (of staging/doubled, which reads raw/numbers) records the commit first, in the dead run.
    const next = runCli(['materialize', '--project', dir, '--select', 'staging/doubled']);
    expect(next.status, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toContain(`raw/numbers: recorded the commit of raw/numbers from run ${dead?.id.slice(0, 8)}`);
    const recorded = () => querySqlite(storage, 'select asset_key, run_id, row_count from materializations order by id');
    expect(recorded()).toEqual([
      { asset_key: 'raw/numbers', run_id: dead?.id, row_count: 100 },
      { asset_key: 'staging/doubled', run_id: expect.not.stringMatching(dead?.id ?? ''), row_count: 100 },
    ]);
    // The step's own events (its log line, materialization, success), then a note of the recovery.
    expect(
      querySqlite(
        storage,
        "select type, asset_key, message from events where run_id = ? and type in ('materialization', 'step_success', 'log') order by id",
        dead?.id,
      ),
    ).toEqual([
      { type: 'log', asset_key: 'raw/numbers', message: 'started' },
      { type: 'materialization', asset_key: 'raw/numbers', message: 'materialized raw/numbers (100 rows)' },
      { type: 'step_success', asset_key: 'raw/numbers', message: expect.stringMatching(/^finished raw\/numbers in \d+ ms$/) },
      {
        type: 'log',
        asset_key: 'raw/numbers',
        message: expect.stringMatching(
          /^recovered the commit of raw\/numbers: its data was published in the warehouse at \S+ but the run stopped before recording it \(1 materialization recorded now\)$/,
        ),
      },
    ]);
    expect(await queryDuckDb(warehouse, 'select * from _strata.commits')).toEqual([]);

    // Fresh: status finds nothing stale upstream of marts/total but marts/total itself, and --stale-only does not rebuild it.
    const stale = parseJson<{ key: string }[]>(runCli(['status', '--stale', '--json', '--project', dir]));
    expect(stale.map((p) => p.key)).toEqual(['marts/total']);
    const again = runCli(['materialize', '--project', dir, '--select', 'raw/numbers', '--stale-only']);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to do');

    // Past the heartbeat timeout (already, on a slow machine), the dead run is reaped: it stays failed, its commit recorded once.
    const wait = (dead?.heartbeat_at ?? 0) + 2_100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const last = runCli(['materialize', '--project', dir, '--select', 'marts/total']);
    expect(last.status, last.stdout + last.stderr).toBe(0);
    expect(next.stderr + last.stderr).toContain(`run ${dead?.id.slice(0, 8)} marked failed`);
    expect(querySqlite<RunRow>(storage, 'select status from runs where id = ?', dead?.id)[0]?.status).toBe('failed');
    expect(recorded().filter((m) => (m as { asset_key: string }).asset_key === 'raw/numbers')).toHaveLength(1);
  });
});
