/**
 * Queueing from the daemon and the UI on Postgres storage (the test cluster; the warehouse is a
 * temp DuckDB file): `AssetDaemon` with `queue` and the UI server with `queue` record the runs
 * they would launch as queued, with their pools, and run nothing; a tick requests no partition
 * already queued (even from a second daemon); a worker (./run-worker.ts's loop) then runs the
 * queued runs, and the UI's event stream shows the queued run go live; the UI cancels a queued
 * run no worker has claimed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { eager } from '../../core/model/definitions/automation-condition.ts';
import { schedule } from '../../core/model/definitions/schedule-definition.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker } from '../../core/engine/runs/run-worker.ts';
import { enqueueBackfill } from '../../core/engine/runs/queued-backfills.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { onPostgres, postgresMissing, postgresSchemaUrl } from '../postgres.ts';
import { call, openStream, startQuietServer } from './api-client.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const missing = postgresMissing();
const SCHEMA = `queue_test_${process.pid}`;
const idle = { stop: new AbortController().signal, cancel: new AbortController().signal };

let ws: TempWorkspace;
let storage: PostgresStorage;

/** `raw/thing` (eager: requested while missing) and `marts/daily` (a nightly schedule for yesterday). */
function project(): Project {
  return buildProject(
    ws.config,
    [
      asset({ key: 'raw/thing', automation: eager(), materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) }),
      asset({
        key: 'marts/daily',
        partitions: daily({ start: '2025-01-01', timezone: 'UTC' }),
        partitionColumn: 'day',
        pool: 'api',
        materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replacePartitions('select $1::date as day', [ctx.partition!.start!]) }),
      }),
    ],
    [schedule({ name: 'nightly', cron: '30 4 * * *', timezone: 'UTC', selection: 'marts/daily', partition: 'latest' })],
  );
}

function daemon(p: Project): AssetDaemon {
  return new AssetDaemon({ project: p, storage, warehouse: ws.warehouse, landing: new FileLandingZone(ws.config.landingDir), queue: true });
}

/** Runs what is queued, as `assets worker --once` would. */
function work(p: Project) {
  return runWorker({ service: new RunService({ project: p, storage, warehouse: ws.warehouse }), concurrency: 1, once: true }, idle);
}

describe.skipIf(missing !== undefined)(`queueing from the daemon and the UI on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`, `create schema ${SCHEMA}`));
  afterAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`));
  beforeEach(async () => {
    ws = await openTempWorkspace('strata-queue-pg-', { name: 'queue-pg-test' });
    await onPostgres(`DO $$ BEGIN IF to_regclass('${SCHEMA}.runs') IS NOT NULL THEN TRUNCATE ${SCHEMA}.runs, ${SCHEMA}.daemon_ticks CASCADE; END IF; END $$`);
    storage = await PostgresStorage.open(postgresSchemaUrl(SCHEMA));
  });
  afterEach(async () => {
    await storage.close();
    await ws.close();
  });

  it('the daemon queues the runs it decides on with their pools, requests nothing queued twice, and a worker runs them', async () => {
    const p = project();
    const first = await daemon(p).runIteration(new Date('2025-03-01T12:00:00Z'));
    expect(first.runIds).toHaveLength(1);
    const [queued] = first.runIds as [string];
    expect(await storage.getRun(queued)).toMatchObject({
      status: 'queued',
      trigger: 'automation',
      pools: ['warehouse'],
      request: { kind: 'materialize', partitions: { 'raw/thing': [null] } },
    });
    expect(await storage.latestMaterializations(['raw/thing'])).toEqual([]);

    // Another daemon (a restart, another host) sees the queued run in storage: no second run.
    const second = await daemon(p).runIteration(new Date('2025-03-01T12:01:00Z'));
    expect(second.runIds).toEqual([]);
    expect(second.decisions.find((d) => d.name === 'raw/thing')?.reason).toBe(`eager(): in flight: run ${queued.slice(0, 8)} is materializing it`);

    // The nightly tick queues yesterday's partition, in the asset's pool.
    const nightly = await daemon(p).runIteration(new Date('2025-03-02T04:30:05Z'));
    expect(nightly.runIds).toHaveLength(1);
    const [scheduled] = nightly.runIds as [string];
    expect(await storage.getRun(scheduled)).toMatchObject({
      status: 'queued',
      trigger: 'schedule',
      pools: ['api'],
      tags: { 'strata/schedule': 'nightly' },
      request: { partitions: { 'marts/daily': ['2025-03-01'] } },
    });

    const worked = await work(p);
    expect(worked).toEqual([
      { runId: queued, status: 'success' },
      { runId: scheduled, status: 'success' },
    ]);
    expect(await ws.warehouse.query('select v from raw.thing')).toEqual([{ v: 1 }]);
    expect((await storage.latestMaterializations(['marts/daily'])).map((m) => [m.partition, m.runId])).toEqual([['2025-03-01', scheduled]]);
    const after = await daemon(p).runIteration(new Date('2025-03-02T04:31:00Z'));
    expect(after.runIds).toEqual([]);
    expect((await storage.listRuns()).map((r) => r.status)).toEqual(['success', 'success']);
  });

  it("a tick requests no partition a queued backfill's run will write", async () => {
    const p = project();
    await daemon(p).runIteration(new Date('2025-03-01T12:00:00Z'));
    const landing = new FileLandingZone(ws.config.landingDir);
    const request = { selection: 'marts/daily', keys: ['marts/daily'], from: '2025-02-28', to: '2025-03-01', mode: 'all', grouping: 'per_partition' } as const;
    const { runs } = await enqueueBackfill({ project: p, storage, landing, now: new Date('2025-03-02T01:00:00Z') }, request, {});
    const holder = runs.find((r) => r.tags.range === '2025-03-01')?.id as string;
    const nightly = await daemon(p).runIteration(new Date('2025-03-02T04:30:05Z'));
    expect(nightly.runIds).toEqual([]);
    expect(nightly.decisions.find((d) => d.name === 'nightly')?.reason).toBe(`already queued or running in run ${holder.slice(0, 8)}`);
  });

  it('the UI queues a launched run: its page shows it queued, then live as a worker runs it', async () => {
    const p = project();
    ws.warehouse.close();
    const server = await startQuietServer(p, storage, { eventPollMs: 50, queue: true });
    try {
      const launched = await call(server.url, 'POST', '/api/runs', { select: 'marts/daily', partition: '2025-02-03' });
      expect(launched.status).toBe(202);
      expect(launched.body).toMatchObject({ steps: 1, queued: true });
      const runId: string = launched.body.runId;
      const page = await call(server.url, 'GET', `/api/runs/${runId}`);
      expect(page.body).toMatchObject({
        run: { id: runId, status: 'queued', pools: ['api'], tags: { launched_by: 'ui', partition: '2025-02-03' } },
        events: [],
      });

      const stream = await openStream(server.url, `?run=${runId}`);
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        // Nothing runs it in the server.
        expect((await storage.getRun(runId))?.status).toBe('queued');
        const worked = await runWorker({ service: new RunService({ project: p, storage }), concurrency: 1, once: true }, idle);
        expect(worked).toEqual([{ runId, status: 'success' }]);
        await stream.find((f) => f.event === 'run' && f.data.id === runId && f.data.status === 'success', 'the run to show success');
        await stream.find((f) => f.event === 'run_event' && f.data.runId === runId && f.data.type === 'materialization', 'its materialization event');
      } finally {
        stream.close();
      }
      const done = await call(server.url, 'GET', `/api/runs/${runId}`);
      expect(done.body.run.status).toBe('success');
      expect(done.body.events.map((e: { type: string }) => e.type)).toContain('run_success');
    } finally {
      await server.close();
    }
  });

  it('the UI queues a launched backfill as one run per day; workers complete it', async () => {
    const p = project();
    ws.warehouse.close();
    const server = await startQuietServer(p, storage, { queue: true });
    try {
      const launched = await call(server.url, 'POST', '/api/backfills', { select: 'marts/daily', from: '2025-03-01', to: '2025-03-03' });
      expect(launched.status).toBe(202);
      expect(launched.body).toMatchObject({ queued: true });
      const { backfillId, runIds } = launched.body as { backfillId: string; runIds: string[] };
      expect(runIds).toHaveLength(3);
      const queued = await Promise.all(runIds.map((id) => storage.getRun(id)));
      expect(queued.map((r) => [r?.status, r?.tags.backfill, r?.pools])).toEqual(runIds.map(() => ['queued', backfillId, ['api']]));
      // Nothing runs it in the server: a worker does.
      const worked = await runWorker({ service: new RunService({ project: p, storage }), concurrency: 1, once: true }, idle);
      expect(worked.map((w) => w.status)).toEqual(['success', 'success', 'success']);
      expect(await storage.getBackfill(backfillId)).toMatchObject({ status: 'success', done: 3, total: 3 });
      const ours = new Set(runIds);
      const days = (await storage.latestMaterializations(['marts/daily']))
        .filter((m) => ours.has(m.runId))
        .map((m) => m.partition)
        .sort();
      expect(days).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    } finally {
      await server.close();
    }
  });

  it('the UI cancels a run it queued that no worker has claimed; a worker then runs nothing', async () => {
    const p = project();
    ws.warehouse.close();
    const server = await startQuietServer(p, storage, { queue: true });
    try {
      const { runId } = (await call(server.url, 'POST', '/api/runs', { select: 'raw/thing' })).body;
      const canceled = await call(server.url, 'POST', `/api/runs/${runId}/cancel`, {});
      expect(canceled).toMatchObject({ status: 202, body: { runId, canceling: true } });
      const page = await call(server.url, 'GET', `/api/runs/${runId}`);
      expect(page.body.run.status).toBe('canceled');
      expect(page.body.events.map((e: { type: string }) => e.type)).toEqual(['run_canceled']);
      expect(await runWorker({ service: new RunService({ project: p, storage }), concurrency: 1, once: true }, idle)).toEqual([]);
      expect((await call(server.url, 'POST', `/api/runs/${runId}/cancel`, {})).status).toBe(409);
    } finally {
      await server.close();
    }
  });
});
