/**
 * The worker loop of `assets worker` over a real SQLite storage and DuckDB warehouse: queued
 * runs are run once each, oldest first, as the runs they were queued as (not created again);
 * a queued run that can no longer run fails with the reason instead of staying running, and
 * the worker goes on; stopping ends the claiming while the run going on finishes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { enqueueMaterialization, type QueuedMaterialization } from '../../core/engine/runs/queued-runs.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker } from '../../core/engine/runs/run-worker.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-run-worker-', { name: 'run-worker-test' });
});
afterEach(() => ws.close());

/** Two unpartitioned assets; `raw/b` waits on `gate` (default: resolved) before writing. */
function project(gate: Promise<void> = Promise.resolve(), keys: readonly string[] = ['raw/a', 'raw/b']): Project {
  const assets = [
    asset({ key: 'raw/a', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) }),
    asset({
      key: 'raw/b',
      materialize: async (ctx) => {
        await gate;
        return { rowCount: await ctx.warehouse.replaceTable('select 2 as v') };
      },
    }),
  ];
  return buildProject(
    ws.config,
    assets.filter((a) => keys.includes(a.spec.key)),
  );
}

async function enqueue(p: Project, select: string, extra: Partial<Omit<QueuedMaterialization, 'kind'>> = {}): Promise<string> {
  // Queued a few ms apart: runs queued in the same millisecond are claimed in id order.
  await new Promise((resolve) => setTimeout(resolve, 3));
  const now = Date.now();
  const plan = buildPlan(p.graph, [select], { now: new Date(now) });
  return (await enqueueMaterialization(ws.storage, { select, now, ...extra }, plan, { graph: p.graph })).id;
}

const running = { stop: new AbortController().signal, cancel: new AbortController().signal };

describe('runWorker', () => {
  it('runs each queued run once, oldest first, as the run it was queued as', async () => {
    const p = project();
    const first = await enqueue(p, 'raw/a');
    const second = await enqueue(p, 'raw/b');
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const lines: string[] = [];
    const worked = await runWorker({ service, concurrency: 1, once: true, log: (line) => lines.push(line) }, running);
    expect(worked).toEqual([
      { runId: first, status: 'success' },
      { runId: second, status: 'success' },
    ]);
    expect(lines[0]).toBe(`run ${first.slice(0, 8)} claimed (raw/a)`);
    const run = await ws.storage.getRun(first);
    expect(run).toMatchObject({ status: 'success', selection: 'raw/a', pid: process.pid, request: { kind: 'materialize', select: 'raw/a' } });
    expect((await ws.storage.listEvents(first)).map((e) => e.type)).toEqual(['run_start', 'step_start', 'materialization', 'step_success', 'run_success']);
    expect(await ws.storage.listRuns()).toHaveLength(2);
    expect(await ws.warehouse.query('select v from raw.b')).toEqual([{ v: 2 }]);
  });

  it('fails a queued run that no longer plans, with the reason and a run_failure event, and goes on', async () => {
    const p = project();
    const gone = await enqueue(p, 'raw/a');
    const fine = await enqueue(p, 'raw/b');
    // The project changed since: raw/a is gone.
    const changed = project(Promise.resolve(), ['raw/b']);
    const service = new RunService({ project: changed, storage: ws.storage, warehouse: ws.warehouse });
    const worked = await runWorker({ service, concurrency: 1, once: true }, running);
    expect(worked.map((w) => w.status)).toEqual(['failed', 'success']);
    const failed = await ws.storage.getRun(gone);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toContain('raw/a');
    expect((await ws.storage.listEvents(gone)).map((e) => e.type)).toEqual(['run_failure']);
    expect((await ws.storage.getRun(fine))?.status).toBe('success');
    expect(await ws.storage.listLeases()).toEqual([]);
  });

  it('stops claiming when stopped, and lets the run going on finish', async () => {
    let open!: () => void;
    const p = project(new Promise<void>((resolve) => (open = resolve)));
    const slow = await enqueue(p, 'raw/b');
    const waiting = await enqueue(p, 'raw/a');
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const stop = new AbortController();
    const worker = runWorker({ service, concurrency: 1, pollMs: 20 }, { stop: stop.signal, cancel: new AbortController().signal });
    for (let i = 0; i < 200 && (await ws.storage.getRun(slow))?.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    open();
    expect(await worker).toEqual([{ runId: slow, status: 'success' }]);
    expect((await ws.storage.getRun(waiting))?.status).toBe('queued');
  });

  it('claims only runs of its pools, and none of a pool whose slots other workers fill', async () => {
    const p = buildProject(ws.config, [
      asset({ key: 'raw/a', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) }),
      asset({ key: 'raw/c', pool: 'api', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 3 as v') }) }),
    ]);
    const inWarehouse = await enqueue(p, 'raw/a');
    const inApi = await enqueue(p, 'raw/c');
    expect((await ws.storage.getRun(inApi))?.pools).toEqual(['api']);
    const service = new RunService({ project: p, storage: ws.storage, warehouse: ws.warehouse });
    const limit = () => 1;
    expect(await runWorker({ service, concurrency: 1, once: true, pools: ['api'], poolLimit: limit }, running)).toEqual([{ runId: inApi, status: 'success' }]);
    expect((await ws.storage.getRun(inWarehouse))?.status).toBe('queued');
    // Another worker's run holds the warehouse pool's one slot.
    await ws.storage.createRun({ ...(await ws.storage.getRun(inApi))!, id: 'elsewhere', status: 'running', pools: ['warehouse'], endedAt: null });
    expect(await runWorker({ service, concurrency: 1, once: true, poolLimit: limit }, running)).toEqual([]);
    await ws.storage.updateRun('elsewhere', { status: 'success', endedAt: Date.now() });
    expect(await runWorker({ service, concurrency: 1, once: true, poolLimit: limit }, running)).toEqual([{ runId: inWarehouse, status: 'success' }]);
  });
});
