/**
 * Leases, heartbeats and dead runs against a real SQLite file and a real DuckDB file: a step
 * whose partition another live run holds waits (saying so once) or is skipped with the reason;
 * two runs of one process on one asset take turns; a running run beats and extends its leases
 * (clock and timer injected); reapDeadRuns fails runs whose heartbeat stopped and frees their
 * leases so the next run goes ahead.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { reapDeadRuns } from '../../core/engine/execution/dead-run-reaper.ts';
import type { RunTiming } from '../../core/model/run-timing.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { aBackfill, aRun } from './storage-fixtures.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-leases-', { name: 'leases-test', concurrency: 2 });
});

afterEach(() => workspace.close());

/** A promise with its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** `raw/words` (waits for `before` if given) and `marts/count` downstream. */
function twoAssets(before?: Promise<void>, onStart?: () => void): Project {
  return buildProject(workspace.config, [
    asset({
      key: 'raw/words',
      async materialize(ctx) {
        onStart?.();
        await before;
        return { rowCount: await ctx.warehouse.replaceTable(`select * from (values ('a'), ('b')) t(word)`) };
      },
    }),
    asset({
      key: 'marts/count',
      deps: ['raw/words'],
      materialize: (ctx) => ctx.warehouse.replaceTable('select count(*) as n from raw.words').then(() => undefined),
    }),
  ]);
}

/** Another process's live run holding `raw/words`. */
async function otherRunHolds(runId = 'other-run-1234', expiresAt = Date.now() + 60_000): Promise<void> {
  await workspace.storage.createRun(aRun(runId, { status: 'running', startedAt: Date.now(), heartbeatAt: Date.now() }));
  const held = await workspace.storage.acquireLeases(runId, [{ assetKey: 'raw/words', partition: null }], { now: Date.now(), expiresAt });
  expect(held.acquired).toBe(true);
}

describe('a step whose partition another run holds', () => {
  it('is skipped with the reason, with everything downstream, under onLeaseConflict: skip', async () => {
    await otherRunHolds();
    const result = await workspace.run(twoAssets(), undefined, { onLeaseConflict: 'skip' });
    expect(result.steps.map((s) => [s.key, s.status, s.error])).toEqual([
      ['raw/words', 'skipped', 'run other-ru is writing raw/words'],
      ['marts/count', 'skipped', 'run other-ru is writing raw/words'],
    ]);
    const skipped = (await workspace.storage.listEvents(result.runId)).filter((e) => e.type === 'step_skipped');
    expect(skipped.map((e) => [e.assetKey, e.message])).toEqual([
      ['raw/words', 'skipped raw/words: run other-ru is writing raw/words'],
      ['marts/count', 'skipped marts/count: run other-ru is writing raw/words'],
    ]);
    // The other run's lease is untouched; this run holds none.
    expect((await workspace.storage.listLeases()).map((l) => l.runId)).toEqual(['other-run-1234']);
  });

  it('waits until it is free, logging once whom it waits for, then runs', async () => {
    await otherRunHolds();
    const waiting = gate();
    const running = workspace.run(twoAssets(), undefined, {
      leasePollMs: 10,
      onEvent: (e) => {
        if (e.type === 'log' && e.message.startsWith('waiting for run')) waiting.open();
      },
    });
    await waiting.promise;
    await new Promise((resolve) => setTimeout(resolve, 100)); // several polls
    await workspace.storage.releaseLeases('other-run-1234');
    const result = await running;
    expect(result.status).toBe('success');
    const logs = (await workspace.storage.listEvents(result.runId)).filter((e) => e.type === 'log');
    expect(logs.map((e) => [e.assetKey, e.level, e.message])).toEqual([['raw/words', 'warn', 'waiting for run other-ru, which holds raw/words']]);
    expect(logs[0]?.data).toEqual({ lease: { heldBy: 'other-run-1234', assetKey: 'raw/words', partition: null } });
    expect(await workspace.warehouse.query('select n from marts.count')).toEqual([{ n: 2 }]);
    expect(await workspace.storage.listLeases()).toEqual([]);
  });

  it('takes over a lease whose run died (expired) without waiting for the reaper', async () => {
    await otherRunHolds('dead-run', Date.now() - 1);
    const result = await workspace.run(twoAssets(), undefined, { onLeaseConflict: 'skip' });
    expect(result.status).toBe('success');
  });

  it('stops waiting when the run is canceled', async () => {
    await otherRunHolds();
    const controller = new AbortController();
    const result = await workspace.run(twoAssets(), undefined, {
      signal: controller.signal,
      onEvent: (e) => e.type === 'log' && controller.abort(),
    });
    expect(result.status).toBe('canceled');
    expect(result.steps.map((s) => s.status)).toEqual(['canceled', 'canceled']);
    expect((await workspace.storage.listLeases()).map((l) => l.runId)).toEqual(['other-run-1234']);
  });
});

describe('two runs of one process on one asset', () => {
  it('take turns: the second step starts after the first has released its lease', async () => {
    const first = gate();
    const firstStarted = gate();
    const order: string[] = [];
    const a = workspace.run(
      twoAssets(first.promise, () => firstStarted.open()),
      ['raw/words'],
      { runId: 'run-a' },
    );
    await firstStarted.promise;
    expect((await workspace.storage.listLeases()).map((l) => [l.assetKey, l.runId])).toEqual([['raw/words', 'run-a']]);
    const bWaits = gate();
    const b = workspace.run(
      twoAssets(undefined, () => order.push('b started')),
      ['raw/words'],
      {
        runId: 'run-b',
        leasePollMs: 10,
        onEvent: (e) => {
          if (e.type !== 'log') return;
          order.push(e.message);
          bWaits.open();
        },
      },
    );
    // Release only once b says it waits (a fixed sleep raced b's start on a loaded machine), and
    // give b a few polls in which it must not start.
    await bWaits.promise;
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('a released');
    first.open();
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.status, rb.status]).toEqual(['success', 'success']);
    expect(order).toEqual(['waiting for run run-a, which holds raw/words', 'a released', 'b started']);
    expect(await workspace.storage.listLeases()).toEqual([]);
  });
});

describe('heartbeats', () => {
  it('record the heartbeat on the run and extend its leases on every tick, and stop at run end', async () => {
    let now = 1_000_000;
    const ticks: (() => void)[] = [];
    let stopped = 0;
    const timing: Partial<RunTiming> = {
      now: () => now,
      every: (ms, tick) => {
        expect(ms).toBe(1_000);
        ticks.push(tick);
        return () => stopped++;
      },
    };
    const inStep = gate();
    const release = gate();
    const running = workspace.run(
      twoAssets(release.promise, () => inStep.open()),
      ['raw/words'],
      { runId: 'beating', timing, heartbeat: { intervalMs: 1_000, timeoutMs: 10_000 } },
    );
    await inStep.promise;
    expect(await workspace.storage.getRun('beating')).toMatchObject({ heartbeatAt: 1_000_000, pid: process.pid, status: 'running' });
    expect(await workspace.storage.listLeases()).toMatchObject([{ runId: 'beating', expiresAt: 1_010_000 }]);
    now = 1_004_000;
    ticks[0]?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await workspace.storage.getRun('beating'))?.heartbeatAt).toBe(1_004_000);
    expect(await workspace.storage.listLeases()).toMatchObject([{ runId: 'beating', expiresAt: 1_014_000 }]);
    // A reaper with the same clock sees a live run.
    expect(await reapDeadRuns(workspace.storage, { now: 1_013_000, timeoutMs: 10_000 })).toEqual([]);
    release.open();
    expect((await running).status).toBe('success');
    expect(ticks).toHaveLength(1);
    expect(stopped).toBe(1);
    expect(await workspace.storage.listLeases()).toEqual([]);
  });
});

describe('reapDeadRuns', () => {
  it('fails running runs whose heartbeat is older than the timeout, frees their leases and their backfill', async () => {
    const storage = workspace.storage;
    await storage.createRun(aRun('dead', { status: 'running', startedAt: 1_000, heartbeatAt: 50_000, tags: { backfill: 'bf1' } }));
    await storage.createRun(aRun('alive', { status: 'running', startedAt: 1_000, heartbeatAt: 95_000 }));
    await storage.createRun(aRun('never-beat', { status: 'running', startedAt: 2_000 }));
    await storage.createRun(aRun('done', { status: 'success', startedAt: 1_000, heartbeatAt: 10_000 }));
    await storage.createBackfill(aBackfill('bf1', { runIds: ['dead'] }));
    await storage.acquireLeases('dead', [{ assetKey: 'raw/words', partition: null }], { now: 50_000, expiresAt: 200_000 });

    const reaped = (await reapDeadRuns(storage, { now: 100_000, timeoutMs: 30_000 })).sort((a, b) => a.runId.localeCompare(b.runId));
    // Each reaped run's run_failure, as recorded, names the run's assets (for alert rules' selections).
    const recorded = await storage.listEvents('dead');
    expect(reaped[0]?.event).toEqual({ ...recorded[0], id: undefined });
    expect(reaped.map((r) => r.event.data)).toEqual([
      { reaped: true, heartbeatAt: 50_000, keys: ['staging/orders', 'marts/sales'] },
      { reaped: true, heartbeatAt: null, keys: ['staging/orders', 'marts/sales'] },
    ]);
    expect(reaped.map(({ event: _, ...rest }) => rest)).toEqual([
      {
        runId: 'dead',
        heartbeatAt: 50_000,
        error: 'process died: no heartbeat since 1970-01-01T00:00:50.000Z (timeout 30s)',
        releasedLeases: 1,
        backfillId: 'bf1',
      },
      {
        runId: 'never-beat',
        heartbeatAt: null,
        error: 'process died: no heartbeat since it started at 1970-01-01T00:00:02.000Z (timeout 30s)',
        releasedLeases: 0,
      },
    ]);
    expect(await storage.getRun('dead')).toMatchObject({ status: 'failed', endedAt: 100_000, error: reaped[0]?.error });
    expect((await storage.getRun('alive'))?.status).toBe('running');
    expect((await storage.getRun('done'))?.status).toBe('success');
    expect((await storage.listEvents('dead')).map((e) => [e.type, e.level, e.message])).toEqual([['run_failure', 'error', reaped[0]?.error]]);
    expect(await storage.getBackfill('bf1')).toMatchObject({ status: 'failed', error: reaped[0]?.error });
    expect(await storage.listLeases()).toEqual([]);
    // Once only.
    expect(await reapDeadRuns(storage, { now: 100_000, timeoutMs: 30_000 })).toEqual([]);
  });

  it('lets the next run write what a dead run held', async () => {
    await workspace.storage.createRun(aRun('crashed', { status: 'running', startedAt: Date.now() - 120_000, heartbeatAt: Date.now() - 90_000 }));
    await workspace.storage.acquireLeases('crashed', [{ assetKey: 'raw/words', partition: null }], { now: Date.now(), expiresAt: Date.now() + 60_000 });
    const blocked = await workspace.run(twoAssets(), undefined, { onLeaseConflict: 'skip' });
    expect(blocked.steps[0]?.status).toBe('skipped');
    expect(await reapDeadRuns(workspace.storage, { timeoutMs: 60_000 })).toMatchObject([{ runId: 'crashed', releasedLeases: 1 }]);
    const next = await workspace.run(twoAssets(), undefined, { onLeaseConflict: 'skip' });
    expect(next.status).toBe('success');
  });
});
