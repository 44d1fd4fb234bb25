/**
 * Idle workers on Postgres storage wake at once (LISTEN/NOTIFY), on the test cluster: a worker
 * polling every 10 s claims a run another process queues within a fraction of that; news of
 * another schema wakes nobody; a run ending wakes waiters; a killed listen connection comes back
 * and a run queued meanwhile is still claimed; a run queued without news (a lost notification)
 * is claimed by the poll.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { enqueueMaterialization } from '../../core/engine/runs/queued-runs.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker, type WorkedRun } from '../../core/engine/runs/run-worker.ts';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { LISTENER_APPLICATION } from '../../storage/postgres-queue-listener.ts';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { aRun } from './storage-fixtures.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const missing = postgresMissing();
const SCHEMA = `queue_wake_${process.pid}`;
const OTHER = `queue_wake_other_${process.pid}`;
/** Far above any wake-up bound below: a claim within the bound came from the news, not the poll. */
const POLL_MS = 10_000;

function schemaUrl(schema = SCHEMA): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** The backend pids of this schema's listen connections. */
async function listeners(): Promise<number[]> {
  const rows = await postgresRows<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [`${LISTENER_APPLICATION} ${SCHEMA}`]);
  return rows.map((r) => r.pid);
}

describe.skipIf(missing !== undefined)(`idle workers wake on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let ws: TempWorkspace;
  let storage: PostgresStorage;
  /** Another process's storage: it queues the runs. */
  let other: PostgresStorage;
  let project: Project;

  beforeAll(() =>
    onPostgres(`drop schema if exists ${SCHEMA} cascade`, `create schema ${SCHEMA}`, `drop schema if exists ${OTHER} cascade`, `create schema ${OTHER}`),
  );
  afterAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`, `drop schema if exists ${OTHER} cascade`));

  beforeEach(async () => {
    ws = await openTempWorkspace('strata-queue-wake-', { name: 'queue-wake-test' });
    storage = await PostgresStorage.open(schemaUrl());
    other = await PostgresStorage.open(schemaUrl());
    await onPostgres(`truncate ${SCHEMA}.runs cascade`);
    project = buildProject(ws.config, [asset({ key: 'raw/a', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) })]);
  });
  afterEach(async () => {
    await storage.close();
    await other.close();
    await ws.close();
  });

  /** Queues `raw/a` through `other`; returns the run id and when the enqueue committed. */
  async function enqueue(): Promise<{ id: string; committedAt: number }> {
    const now = Date.now();
    const run = await enqueueMaterialization(other, { select: 'raw/a', now }, buildPlan(project.graph, ['raw/a'], { now: new Date(now) }), {
      graph: project.graph,
    });
    return { id: run.id, committedAt: Date.now() };
  }

  /** Starts a worker on `storage`, polling every `pollMs`; `stop()` ends it and returns what it ran. */
  function startWorker(pollMs = POLL_MS): { stop: () => Promise<WorkedRun[]> } {
    const stop = new AbortController();
    const service = new RunService({ project, storage, warehouse: ws.warehouse });
    const worker = runWorker({ service, concurrency: 1, pollMs }, { stop: stop.signal, cancel: new AbortController().signal });
    return {
      stop: () => {
        stop.abort();
        return worker;
      },
    };
  }

  it('an idle worker polling every 10 s claims a run another process queues within 500 ms', async () => {
    const worker = startWorker();
    try {
      expect(await until(async () => (await listeners()).length === 1, 5_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let round = 0; round < 3; round++) {
        const { id, committedAt } = await enqueue();
        expect(await until(async () => (await storage.getRun(id))?.status === 'success', 3_000)).toBe(true);
        const run = await storage.getRun(id);
        expect(run!.startedAt! - committedAt).toBeLessThan(500);
      }
    } finally {
      await worker.stop();
    }
  });

  it('wakes a waiter when a run of its schema is queued, or ends while a run is queued; not for another schema, a plain run or a rolled-back one', async () => {
    const elsewhere = await PostgresStorage.open(schemaUrl(OTHER));
    const stop = new AbortController();
    try {
      // The first wait connects, and wakes: news sent before the LISTEN went unheard.
      expect(await storage.waitForQueued(stop.signal, 5_000)).toBe(true);
      await elsewhere.createRun(aRun('elsewhere', { request: { kind: 'materialize' } }));
      for (const id of ['plain', 'plain2', 'plain3']) await other.createRun(aRun(id, { status: 'running', startedAt: 1 }));
      expect(await storage.waitForQueued(stop.signal, 300)).toBe(false);

      // Nothing queued: a run ending can make no claim possible.
      await other.updateRun('plain3', { status: 'success', endedAt: 2 });
      expect(await storage.waitForQueued(stop.signal, 300)).toBe(false);

      const queued = storage.waitForQueued(stop.signal, 5_000);
      await other.createRun(aRun('queued', { request: { kind: 'materialize' } }));
      expect(await queued).toBe(true);

      // A run queued: one ending may free what a claim waited for.
      const ended = storage.waitForQueued(stop.signal, 5_000);
      await other.updateRun('plain', { status: 'success', endedAt: 2 });
      expect(await ended).toBe(true);

      // News while nobody waits is kept for the next wait.
      await other.updateRun('plain2', { status: 'failed', endedAt: 3 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await storage.waitForQueued(stop.signal, 5)).toBe(true);

      // A queued run whose insert fails (its id is taken) is rolled back with its news.
      await expect(other.createRun(aRun('queued', { request: { kind: 'materialize' } }))).rejects.toThrow(/queued/);
      expect(await storage.waitForQueued(stop.signal, 300)).toBe(false);
    } finally {
      await elsewhere.close();
    }
  });

  it('still claims a run queued after its listen connection was killed (pg_terminate_backend), and listens again', async () => {
    const worker = startWorker();
    try {
      expect(await until(async () => (await listeners()).length === 1, 5_000)).toBe(true);
      const [killed] = await listeners();
      await onPostgres(`select pg_terminate_backend(${killed})`);
      const { id } = await enqueue();
      expect(await until(async () => (await storage.getRun(id))?.status === 'success', 5_000)).toBe(true);
      const again = await listeners();
      expect(again).toHaveLength(1);
      expect(again[0]).not.toBe(killed);

      // And it hears news again.
      const next = await enqueue();
      expect(await until(async () => (await storage.getRun(next.id))?.status === 'success', 3_000)).toBe(true);
      expect((await storage.getRun(next.id))!.startedAt! - next.committedAt).toBeLessThan(500);
    } finally {
      await worker.stop();
    }
  });

  it('reaps a dead run while idle, once a poll interval, however often news wakes it', async () => {
    const worker = startWorker(300);
    try {
      expect(await until(async () => (await listeners()).length === 1, 5_000)).toBe(true);
      await other.createRun(aRun('dead', { status: 'running', startedAt: 1, heartbeatAt: 1, pid: 999_999 }));
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline && (await storage.getRun('dead'))?.status === 'running') {
        await onPostgres(`select pg_notify('strata_queue', '${SCHEMA}')`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await storage.getRun('dead'))?.status).toBe('failed');
    } finally {
      await worker.stop();
    }
  });

  it('claims a run queued without news (a lost notification) at the next poll', async () => {
    const worker = startWorker(200);
    try {
      expect(await until(async () => (await listeners()).length === 1, 5_000)).toBe(true);
      const now = Date.now();
      await onPostgres(
        `insert into ${SCHEMA}.runs (id, status, trigger, selection, asset_keys, created_at, tags, request)
         values ('silent', 'queued', 'manual', 'raw/a', '["raw/a"]', ${now}, '{}', '${JSON.stringify({ kind: 'materialize', select: 'raw/a', now })}')`,
      );
      expect(await until(async () => (await storage.getRun('silent'))?.status === 'success', 5_000)).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
