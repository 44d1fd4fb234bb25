/**
 * One daemon at a time, as real `assets daemon` processes: on Postgres storage (the test
 * cluster) the first daemon holds the advisory lock and ticks, a second one says who holds it
 * and stands by without ticking; when the holder's lock connection is terminated it stops
 * ticking, and when the holder is killed with -9 the standby takes over within seconds. On
 * SQLite storage the same with the lock row: a second daemon stands by, `--once` is refused
 * while a daemon holds the lock, and kill -9 of the holder hands over at once (its pid is gone).
 */
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { querySqlite, runCli, Sandbox, startCli, stateFiles, type CliResult } from './cli-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();
const INTERVAL_MS = 300;

beforeAll(() => {
  sandbox = Sandbox.create();
});
afterAll(() => sandbox?.cleanup());

/** A daemon process whose output so far can be read. */
interface Daemon {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  output(): string;
}

function startDaemon(project: string, env: Record<string, string> = {}): Daemon {
  const started = startCli(['daemon', '--interval', `${INTERVAL_MS}ms`, '--project', project], { env });
  let output = '';
  started.child.stdout?.on('data', (chunk: string) => (output += chunk));
  started.child.stderr?.on('data', (chunk: string) => (output += chunk));
  return { ...started, output: () => output };
}

/** Polls `done` every 50 ms, failing after `timeoutMs`. */
async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function files(name: string, storage?: string): Record<string, string> {
  return {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name, ...(storage === undefined ? {} : { storage }) }),
    'defs/raw/numbers.sql': '-- automation: eager\nselect range as n from range(3)\n',
  };
}

/**
 * While `daemons` all run, the ticks recorded in `windowMs` are those of one daemon: at most one
 * per interval (two daemons would record about twice as many).
 */
async function ticksOfOneDaemon(count: () => Promise<number>, windowMs = 3_000): Promise<void> {
  const before = await count();
  await sleep(windowMs);
  const ticks = (await count()) - before;
  expect(ticks).toBeGreaterThan(0);
  expect(ticks).toBeLessThanOrEqual(Math.ceil(windowMs / INTERVAL_MS) + 1);
}

describe.skipIf(missing !== undefined)(`one daemon at a time on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const schema = `cli_daemon_lock_${process.pid}`;
  const url = (): string => {
    const u = new URL(postgresUrl());
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  };
  const holders = () =>
    postgresRows<{ pid: number; name: string }>(
      `select l.pid, a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
       where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.classid = ${0x5374_446d}::oid
         and l.objid = (hashtext('${schema}') & 2147483647)::oid`,
    );
  const tickCount = async () => (await postgresRows<{ n: number }>(`select count(*)::int as n from ${schema}.daemon_ticks`))[0]?.n ?? 0;

  beforeAll(() => onPostgres(`drop schema if exists ${schema} cascade`, `create schema ${schema}`));
  afterAll(() => onPostgres(`drop schema if exists ${schema} cascade`));

  it('a second daemon stands by naming the holder; a lost lock connection stops the holder; kill -9 hands over within seconds', async () => {
    const project = sandbox.writeProject('daemon-lock-pg', files('daemon-lock-pg', 'env:STRATA_E2E_STORAGE'));
    const env = { STRATA_E2E_STORAGE: url() };
    const first = startDaemon(project, env);
    const daemons = [first];
    try {
      await until('the first daemon started', () => first.output().includes('daemon started: a tick every 0.3s'));
      const second = startDaemon(project, env);
      daemons.push(second);
      await until('the second daemon stood by', () => second.output().includes('standing by'));
      expect(second.output()).toContain(`standing by: the daemon with pid ${first.child.pid} on ${os.hostname()}, since `);
      expect((await holders()).map((h) => h.name)).toEqual([`strata daemon ${first.child.pid}@${os.hostname()}`.slice(0, 63)]);
      await ticksOfOneDaemon(tickCount);
      await until('the eager asset was built once', async () => (await postgresRows(`select 1 from ${schema}.materializations`)).length === 1);
      expect(second.output()).not.toMatch(/daemon started|took over|tick \d+/);

      // The holder's lock connection is terminated (as by a network cut): it stops and stands by; one daemon holds the lock again.
      await postgresRows(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [
        `strata daemon ${first.child.pid}@${os.hostname()}`.slice(0, 63),
      ]);
      await until('the first daemon noticed', () => first.output().includes('lost the daemon lock'));
      await until('one daemon took the lock again', async () => (await holders()).length === 1);
      await ticksOfOneDaemon(tickCount);

      // kill -9 the holder: the other takes over within seconds.
      const holderPid = Number(/^strata daemon (\d+)@/.exec((await holders())[0]?.name ?? '')?.[1]);
      const victim = daemons.find((d) => d.child.pid === holderPid);
      const survivor = daemons.find((d) => d !== victim);
      if (victim === undefined || survivor === undefined) throw new Error(`no daemon of pid ${holderPid} holds the lock`);
      const takenBefore = survivor.output().split('took over the daemon lock').length;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.done;
      await until('the survivor took over', () => survivor.output().split('took over the daemon lock').length > takenBefore, 15_000);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect((await holders()).map((h) => h.name)).toEqual([`strata daemon ${survivor.child.pid}@${os.hostname()}`.slice(0, 63)]);
      const ticks = await tickCount();
      await until('the survivor ticks', async () => (await tickCount()) > ticks + 2);

      survivor.child.kill('SIGINT');
      const result = await survivor.done;
      expect(result.status, result.stderr).toBe(0);
      expect(await holders()).toEqual([]);
    } finally {
      for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    }
  });
});

describe('one daemon at a time on SQLite storage', () => {
  it('a second daemon stands by, --once is refused while one holds the lock, and kill -9 of the holder hands over at once', async () => {
    const project = sandbox.writeProject('daemon-lock-sqlite', files('daemon-lock-sqlite'));
    const { storage } = stateFiles(project);
    const first = startDaemon(project);
    const daemons = [first];
    try {
      await until('the first daemon started', () => first.output().includes('daemon started: a tick every 0.3s'));
      const second = startDaemon(project);
      daemons.push(second);
      await until('the second daemon stood by', () => second.output().includes('standing by'));
      expect(second.output()).toContain(`standing by: the daemon with pid ${first.child.pid} on ${os.hostname()}, since `);
      await ticksOfOneDaemon(async () => querySqlite(storage, 'select id from daemon_ticks').length);

      const once = runCli(['daemon', '--once', '--project', project]);
      expect(once.status, once.stdout + once.stderr).toBe(1);
      expect(once.stderr).toContain(`the daemon with pid ${first.child.pid} on ${os.hostname()}`);
      expect(once.stderr).toContain('holds the daemon lock: it evaluates schedules and automation (--once does not wait)');

      const killedAt = Date.now();
      first.child.kill('SIGKILL');
      await first.done;
      await until('the second daemon took over', () => second.output().includes('took over the daemon lock: a tick every 0.3s'), 15_000);
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(querySqlite(storage, 'select pid from daemon_lock')).toEqual([{ pid: second.child.pid }]);

      second.child.kill('SIGINT');
      expect((await second.done).status).toBe(0);
      expect(querySqlite(storage, 'select pid from daemon_lock')).toEqual([]);
      expect(runCli(['daemon', '--once', '--project', project]).status).toBe(0);
    } finally {
      for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    }
  });
});
