/**
 * Reclaiming queued runs and queued backfills, through the engine over a real SQLite storage and
 * DuckDB warehouse: a claimed run whose process died is failed with a queued retry (once, however
 * many reapers), the retry leaves out what the dead run committed, attempts are bounded; a queued
 * backfill is cut into one run per partition where no step reads another partition, kept as one
 * run where one does, completed by whichever worker ends its last run, and requeued by a resume.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { daily, timeWindow } from '../../core/model/partitions/index.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { enqueueMaterialization } from '../../core/engine/runs/queued-runs.ts';
import { enqueueBackfill, requeueBackfill } from '../../core/engine/runs/queued-backfills.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker } from '../../core/engine/runs/run-worker.ts';
import { DEFAULT_MAX_ATTEMPTS } from '../../core/engine/execution/run-retry.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-run-reclaim-', { name: 'run-reclaim-test' });
});
afterEach(() => ws.close());

const DAYS = daily({ start: '2025-01-01', end: '2025-01-05', timezone: 'UTC' });
const NOW = new Date('2025-02-01T00:00:00Z');
const running = { stop: new AbortController().signal, cancel: new AbortController().signal };

/** Writes of each asset partition, counted as the assets run. */
let writes: Map<string, number>;
beforeEach(() => {
  writes = new Map();
});
function wrote(key: string, partition: string | null): void {
  const id = partition === null ? key : `${key}@${partition}`;
  writes.set(id, (writes.get(id) ?? 0) + 1);
}

/** raw/a and raw/b unpartitioned; `fail` makes raw/b throw. */
function flat(fail = { b: false }): Project {
  return buildProject(ws.config, [
    asset({
      key: 'raw/a',
      materialize: async (ctx) => {
        wrote('raw/a', null);
        return { rowCount: await ctx.warehouse.replaceTable('select 1 as v') };
      },
    }),
    asset({
      key: 'raw/b',
      deps: ['raw/a'],
      materialize: async (ctx) => {
        if (fail.b) throw new Error('raw/b broke');
        wrote('raw/b', null);
        return { rowCount: await ctx.warehouse.replaceTable('select 2 as v') };
      },
    }),
  ]);
}

/** Daily raw/days, raw/more and staging/days; with `rolling`, staging/days reads the day before too; `broken` days fail. */
function days(options: { rolling?: boolean; broken?: Set<string> } = {}): Project {
  const step = (key: string) => async (ctx: { partition?: { key: string } }) => {
    const partition = ctx.partition?.key ?? null;
    if (options.broken?.has(partition ?? '')) throw new Error(`${key} broke on ${partition}`);
    wrote(key, partition);
    return {};
  };
  return buildProject(ws.config, [
    asset({ key: 'raw/days', partitions: DAYS, materialize: step('raw/days') }),
    asset({ key: 'raw/more', partitions: DAYS, materialize: step('raw/more') }),
    asset({
      key: 'staging/days',
      partitions: DAYS,
      deps: [options.rolling ? { key: 'raw/days', mapping: timeWindow({ startOffset: -1, endOffset: 0 }) } : 'raw/days'],
      materialize: step('staging/days'),
    }),
  ]);
}

/** Queues `raw/*`, claims it as a process that died two minutes ago, and runs raw/a under it. */
async function deadRunThatCommittedA(p: Project, service: RunService, attempt?: number): Promise<string> {
  const now = Date.now();
  const plan = buildPlan(p.graph, ['raw/a', 'raw/b'], { now: new Date(now) });
  await enqueueMaterialization(ws.storage, { select: 'raw/*', now, ...(attempt ? ({ attempt } as object) : {}) }, plan, { graph: p.graph });
  const claimed = await ws.storage.claimQueuedRun({ now: now - 120_000, pid: 1 });
  if (claimed === undefined) throw new Error('nothing claimed');
  const onlyA = buildPlan(p.graph, ['raw/a'], { now: new Date(now) });
  await service.materialize({ plan: onlyA, runId: claimed.id, claimed: true, selection: 'raw/*' }, new AbortController().signal);
  // It died before its next step: still running, silent for two minutes.
  await ws.storage.updateRun(claimed.id, { status: 'running', endedAt: null, heartbeatAt: now - 120_000 });
  return claimed.id;
}

/**
 * A worker's run whose step is under way is reaped by another process (its retry queued); the
 * step is let go `waitMs` later. The run must end failed as reaped, with nothing published.
 */
async function reapWhileStepRuns(heartbeat: { interval: string; timeout: string }, waitMs: number): Promise<void> {
  const beats = await openTempWorkspace('strata-run-reclaim-beats-', { name: 'beats', heartbeat });
  try {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const p = buildProject(beats.config, [
      asset({
        key: 'raw/slow',
        materialize: async (ctx) => {
          const rows = await ctx.warehouse.replaceTable('select 1 as v');
          started();
          await gate;
          wrote('raw/slow', null);
          return { rowCount: rows };
        },
      }),
    ]);
    const now = Date.now();
    await enqueueMaterialization(beats.storage, { select: 'raw/slow', now }, buildPlan(p.graph, ['raw/slow'], { now: new Date(now) }), { graph: p.graph });
    const service = new RunService({ project: p, storage: beats.storage, warehouse: beats.warehouse });
    const worker = runWorker({ service, concurrency: 1, once: true }, { stop: new AbortController().signal, cancel: new AbortController().signal });
    await running;
    const [run] = await beats.storage.listRuns({ status: 'running' });
    const id = run?.id as string;
    // Another process reaps it (as if its heartbeat were late), queueing its retry.
    const event = {
      runId: id,
      timestamp: Date.now(),
      type: 'run_failure',
      level: 'error',
      assetKey: null,
      partition: null,
      message: 'dead',
      data: null,
    } as const;
    expect(await beats.storage.failDeadRun(id, { lastSeenBefore: Date.now() + 60_000, endedAt: Date.now(), error: 'process died', event })).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    release();
    const [worked] = await worker;
    expect(worked).toMatchObject({ runId: id, status: 'failed', error: 'process died' });
    expect(await beats.storage.getRun(id)).toMatchObject({ status: 'failed', error: 'process died' });
    expect(await beats.storage.materializationHistory('raw/slow')).toEqual([]);
  } finally {
    await beats.close();
  }
}

describe('reclaiming a dead queued run', () => {
  it('queues one retry with the dead run, and the retry leaves out what the dead run committed', async () => {
    const p = flat();
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const dead = await deadRunThatCommittedA(p, service);
    const [first, second] = await Promise.all([service.reapDeadRuns({ quiet: true }), service.reapDeadRuns({ quiet: true })]);
    const reaped = [...first, ...second];
    expect(reaped).toHaveLength(1);
    const retryId = reaped[0]?.retryRunId as string;
    expect(await ws.storage.getRun(dead)).toMatchObject({ status: 'failed' });
    expect(await ws.storage.getRun(retryId)).toMatchObject({
      status: 'queued',
      selection: 'raw/*',
      tags: { resumes: dead, attempt: '2' },
      request: { kind: 'materialize', select: 'raw/*', attempt: 2, resumes: [dead] },
      // It waits for the same pool slots as the run it retries.
      pools: ['warehouse'],
    });
    const worked = await runWorker({ service, concurrency: 1, once: true }, running);
    expect(worked).toEqual([{ runId: retryId, status: 'success' }]);
    expect(Object.fromEntries(writes)).toEqual({ 'raw/a': 1, 'raw/b': 1 });
    expect(await ws.storage.materializationHistory('raw/a')).toHaveLength(1);
    expect((await ws.storage.materializationHistory('raw/b')).map((m) => m.runId)).toEqual([retryId]);
  });

  it(`gives up after ${DEFAULT_MAX_ATTEMPTS} attempts`, async () => {
    const p = flat();
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const dead = await deadRunThatCommittedA(p, service, DEFAULT_MAX_ATTEMPTS);
    const reaped = await service.reapDeadRuns({ quiet: true });
    expect(reaped.map((r) => [r.runId, r.retryRunId])).toEqual([[dead, undefined]]);
    expect(await ws.storage.listRuns({ status: 'queued' })).toEqual([]);
  });

  it('a live run reaped as dead (its host too busy to beat) stops, rolls back its step going on and stays failed', () =>
    reapWhileStepRuns({ interval: '50ms', timeout: '1s' }, 300));

  // No heartbeat comes before the step publishes: only the step's own look can stop it.
  it('a live run reaped between two heartbeats publishes nothing: the step about to publish looks first', () =>
    reapWhileStepRuns({ interval: '10s', timeout: '30s' }, 0));
});

describe('queued backfills', () => {
  const range = { from: '2025-01-01', to: '2025-01-04' };
  const request = (p: Project) => ({ selection: '*', keys: p.graph.keys, ...range, mode: 'all', grouping: 'policy' }) as const;

  it('queues one run per partition, and the worker ending the last run completes the backfill', async () => {
    const p = days();
    const queued = await enqueueBackfill({ project: p, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir), now: NOW }, request(p), {});
    expect(queued.oneRun).toBe(false);
    expect(queued.runs.map((r) => r.tags.range)).toEqual(['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04']);
    expect((await ws.storage.getRun(queued.runs[0]!.id))?.pools).toEqual(['warehouse']);
    expect(queued.backfill).toMatchObject({ status: 'running', total: 12, runIds: queued.runs.map((r) => r.id) });
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const worked = await runWorker({ service, concurrency: 1, once: true }, running);
    expect(worked.map((w) => w.error ?? w.status)).toEqual(['success', 'success', 'success', 'success']);
    expect(await ws.storage.getBackfill(queued.backfill.id)).toMatchObject({ status: 'success', done: 12, failed: 0 });
    expect([...writes.values()].every((n) => n === 1)).toBe(true);
    expect(writes.size).toBe(12);
  });

  it('runs of a canceled backfill end canceled without writing, and it stays canceled', async () => {
    const p = days();
    const queued = await enqueueBackfill({ project: p, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir), now: NOW }, request(p), {});
    await ws.storage.updateBackfill(queued.backfill.id, { status: 'canceled' });
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const worked = await runWorker({ service, concurrency: 1, once: true }, running);
    expect(worked.map((w) => w.status)).toEqual(['canceled', 'canceled', 'canceled', 'canceled']);
    expect(writes.size).toBe(0);
    expect(await ws.storage.getBackfill(queued.backfill.id)).toMatchObject({ status: 'canceled', done: 0 });
  });

  it('keeps a backfill whose steps read the day before as one run', async () => {
    const p = days({ rolling: true });
    const queued = await enqueueBackfill({ project: p, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir), now: NOW }, request(p), {});
    expect(queued.oneRun).toBe(true);
    expect(queued.runs).toHaveLength(1);
    expect(queued.runs[0]?.tags.range).toBe('2025-01-01..2025-01-04');
  });

  it('fails with its failed run, and a resume requeues only what was not committed', async () => {
    const broken = new Set(['2025-01-03']);
    const p = days({ broken });
    const queued = await enqueueBackfill({ project: p, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir), now: NOW }, request(p), {});
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    await runWorker({ service, concurrency: 1, once: true }, running);
    expect(await ws.storage.getBackfill(queued.backfill.id)).toMatchObject({ status: 'failed', done: 9, failed: 3 });
    broken.clear();
    const stored = await ws.storage.getBackfill(queued.backfill.id);
    const again = await requeueBackfill({ project: p, storage: ws.storage }, stored as NonNullable<typeof stored>, p.graph.keys);
    expect(again.runs.map((r) => r.tags.range)).toEqual(['2025-01-03']);
    expect(again.backfill.status).toBe('running');
    await runWorker({ service, concurrency: 1, once: true }, running);
    expect(await ws.storage.getBackfill(queued.backfill.id)).toMatchObject({ status: 'success', done: 12, failed: 0 });
    expect([...writes.values()].every((n) => n === 1)).toBe(true);
  });
});
