/**
 * The asset daemon against real SQLite and DuckDB files: ticks driven with an injected clock,
 * runs executed by the real executor. Slow assets wait on gates the tests open, so a run can be
 * kept in flight across ticks.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset, buildSpec, makeDefinition, type AssetDefinition } from '../../core/model/definitions/asset-spec.ts';
import { eager, type AutomationCondition } from '../../core/model/definitions/automation-condition.ts';
import { schedule } from '../../core/model/definitions/schedule-definition.ts';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { runDaemonLoop } from '../../core/engine/daemon/daemon-loop.ts';
import type { DaemonSettings } from '../../core/model/config/daemon-settings.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-daemon-', { name: 'daemon-test' });
});
afterEach(async () => {
  await ws.close();
});

const SETTINGS: DaemonSettings = { tickSeconds: 30, maxConcurrentRuns: 2, pools: {} };

function daemonFor(project: Project, settings: DaemonSettings = SETTINGS): AssetDaemon {
  return new AssetDaemon({ project, storage: ws.storage, warehouse: ws.warehouse, landing: new FileLandingZone(ws.config.landingDir), settings });
}

/** A SQL table asset with an automation condition. */
function sqlAsset(key: string, sql: string, deps: string[], automation?: AutomationCondition): AssetDefinition {
  return makeDefinition(buildSpec(key, { deps, tags: {}, owners: [], ...(automation ? { automation } : {}) }, 'sql'), {
    type: 'sql',
    sql,
    materialization: 'table',
  });
}

/** A gate a slow asset waits on; `open()` lets it finish. Counts how many gated steps run at once. */
class Gates {
  active = 0;
  peak = 0;
  #open = false;
  #waiters: (() => void)[] = [];

  async pass(): Promise<void> {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      if (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    } finally {
      this.active--;
    }
  }

  open(): void {
    this.#open = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Resolves once `count` gated steps are waiting. */
  async waiting(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.#waiters.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.#waiters.length} gated steps arrived, expected ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

function gatedAsset(key: string, gates: Gates, extra: { automation?: AutomationCondition; pool?: string } = {}): AssetDefinition {
  return asset({
    key,
    ...extra,
    async materialize() {
      await gates.pass();
      return { rowCount: 0 };
    },
  });
}

async function latestTimes(keys: string[]): Promise<Record<string, number>> {
  return Object.fromEntries((await ws.storage.latestMaterializations(keys)).map((m) => [m.assetKey, m.timestamp]));
}

describe('asset daemon', () => {
  it('propagates eager automation through two layers below a rematerialized root, in order', async () => {
    let version = 0;
    const project = buildProject(ws.config, [
      asset({ key: 'raw/root', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable(`select ${++version} as v`) }) }),
      sqlAsset('staging/mid', 'select v * 10 as v from raw.root', ['raw/root'], eager()),
      sqlAsset('marts/leaf', 'select v + 1 as v from staging.mid', ['staging/mid'], eager()),
    ]);
    const daemon = daemonFor(project);

    // Nothing exists: both eager assets wait for the root, which has no automation.
    const first = await daemon.runIteration(new Date());
    expect(first.runIds).toEqual([]);
    expect(first.decisions.map((d) => [d.name, d.action, d.reason])).toEqual([
      ['staging/mid', 'skipped', 'eager(): waiting for a missing upstream: raw/root was never materialized'],
      ['marts/leaf', 'skipped', 'eager(): waiting for a missing upstream: staging/mid was never materialized'],
    ]);

    expect((await ws.run(project, ['raw/root'])).status).toBe('success');
    const second = await daemon.runIteration(new Date());
    expect(second.runIds).toHaveLength(1);
    expect(second.decisions.map((d) => [d.name, d.action, d.runId])).toEqual([
      ['staging/mid', 'requested', second.runIds[0]],
      ['marts/leaf', 'requested', second.runIds[0]],
    ]);
    expect(await daemon.waitForRuns(second.runIds)).toEqual([{ runId: second.runIds[0], status: 'success' }]);
    expect((await daemon.runIteration(new Date())).decisions).toEqual([]);

    // The root is rematerialized by hand: the next tick rebuilds both layers below, mid first.
    expect((await ws.run(project, ['raw/root'])).status).toBe('success');
    const root = (await latestTimes(['raw/root']))['raw/root'] as number;
    const third = await daemon.runIteration(new Date());
    expect(third.decisions.map((d) => [d.name, d.action, d.reason])).toEqual([
      ['staging/mid', 'requested', 'eager(): upstream updated: raw/root'],
      ['marts/leaf', 'requested', 'eager(): upstream requested in this tick: staging/mid'],
    ]);
    await daemon.waitForRuns(third.runIds);
    const times = await latestTimes(['staging/mid', 'marts/leaf']);
    expect(times['staging/mid']).toBeGreaterThanOrEqual(root);
    expect(times['marts/leaf']).toBeGreaterThanOrEqual(times['staging/mid'] as number);
    const run = await ws.storage.getRun(third.runIds[0] as string);
    expect(run).toMatchObject({ trigger: 'automation', status: 'success', assetKeys: ['staging/mid', 'marts/leaf'] });
    const events = (await ws.storage.listEvents(run!.id)).filter((e) => e.type === 'step_success').map((e) => e.assetKey);
    expect(events).toEqual(['staging/mid', 'marts/leaf']);
    expect(await ws.warehouse.session('marts/leaf').all('select v from marts.leaf')).toEqual([{ v: 21 }]);
    expect((await daemon.runIteration(new Date())).decisions).toEqual([]);

    // Every tick is stored with its decisions, newest first.
    const ticks = await ws.storage.listDaemonTicks();
    expect(ticks.map((t) => [t.id, t.status, t.runIds.length])).toEqual([
      [5, 'success', 0],
      [4, 'success', 1],
      [3, 'success', 0],
      [2, 'success', 1],
      [1, 'success', 0],
    ]);
    expect(ticks[1]?.decisions).toEqual(third.decisions);
  });

  it('never runs one asset partition twice: overlapping schedule and automation, consecutive ticks while in flight', async () => {
    const gates = new Gates();
    const project = buildProject(
      ws.config,
      [gatedAsset('slow/thing', gates, { automation: eager() })],
      [
        schedule({ name: 'every_minute', cron: '* * * * *', selection: 'slow/thing' }),
        schedule({ name: 'also_every_minute', cron: '*/1 * * * *', selection: 'slow/*' }),
      ],
    );
    const daemon = daemonFor(project);
    const t0 = Date.parse('2030-01-01T00:00:30Z');
    const init = await daemon.runIteration(new Date(t0));
    // First sight of the schedules; automation requests the missing asset.
    expect(init.decisions.filter((d) => d.source === 'schedule').map((d) => d.reason)).toEqual([
      expect.stringMatching(/^first evaluation/),
      expect.stringMatching(/^first evaluation/),
    ]);
    expect(init.runIds).toHaveLength(1);
    await gates.waiting(1);

    const second = await daemon.runIteration(new Date(t0 + 60_000));
    expect(second.runIds).toEqual([]);
    expect(second.decisions.map((d) => [d.source, d.name, d.action, d.reason])).toEqual([
      ['schedule', 'also_every_minute', 'skipped', `already queued or running in run ${init.runIds[0]?.slice(0, 8)}`],
      ['schedule', 'every_minute', 'skipped', `already queued or running in run ${init.runIds[0]?.slice(0, 8)}`],
      ['automation', 'slow/thing', 'skipped', `eager(): in flight: run ${init.runIds[0]?.slice(0, 8)} is materializing it`],
    ]);
    const third = await daemon.runIteration(new Date(t0 + 120_000));
    expect(third.runIds).toEqual([]);
    expect(await ws.storage.listRuns()).toHaveLength(1);

    gates.open();
    await daemon.waitForRuns(init.runIds);
    expect(gates.peak).toBe(1);
    const runs = await ws.storage.listRuns();
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([['automation', 'success']]);

    // Once it is done, the next cron tick is one run for both schedules' shared partition.
    const fourth = await daemon.runIteration(new Date(t0 + 180_000));
    expect(fourth.decisions.filter((d) => d.action === 'requested').map((d) => d.name)).toEqual(['also_every_minute']);
    expect(fourth.decisions.find((d) => d.name === 'every_minute')?.reason).toBe(`already queued or running in run ${fourth.runIds[0]?.slice(0, 8)}`);
    await daemon.waitForRuns(fourth.runIds);
    expect((await ws.storage.listRuns()).map((r) => r.trigger)).toEqual(['schedule', 'automation']);
  });

  it('respects the run limit and the pool limits', async () => {
    const gates = new Gates();
    const assets = ['gate/a', 'gate/b', 'gate/c'].map((key) => gatedAsset(key, gates, { pool: key.replace('/', '_') }));
    const shared = ['gate/d', 'gate/e'].map((key) => gatedAsset(key, gates, { pool: 'shared' }));
    const schedules = ['a', 'b', 'c', 'd', 'e'].map((name) => schedule({ name, cron: '0 * * * *', selection: `gate/${name}` }));
    const project = buildProject(ws.config, [...assets, ...shared], schedules);
    await ws.warehouse.ensureSchemas(['gate']);
    const daemon = daemonFor(project, { tickSeconds: 30, maxConcurrentRuns: 2, pools: { shared: 1 } });
    const t0 = Date.parse('2030-01-01T00:30:00Z');
    await daemon.runIteration(new Date(t0));
    const tick = await daemon.runIteration(new Date(t0 + 3_600_000));
    expect(tick.runIds).toHaveLength(5);
    await gates.waiting(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gates.active).toBe(2);
    expect(daemon.launcher.runningCount).toBe(2);
    expect(daemon.launcher.queuedCount).toBe(3);
    gates.open();
    const outcomes = await daemon.waitForRuns(tick.runIds);
    expect(outcomes.map((o) => o.status)).toEqual(['success', 'success', 'success', 'success', 'success']);
    expect(gates.peak).toBe(2);
    expect(daemon.launcher.peakRunning).toBe(2);
  });

  it('runs one slot per pool: two runs in the same pool never overlap', async () => {
    const gates = new Gates();
    const project = buildProject(
      ws.config,
      ['gate/d', 'gate/e'].map((key) => gatedAsset(key, gates, { pool: 'shared' })),
      ['d', 'e'].map((name) => schedule({ name, cron: '0 * * * *', selection: `gate/${name}` })),
    );
    await ws.warehouse.ensureSchemas(['gate']);
    const daemon = daemonFor(project, { tickSeconds: 30, maxConcurrentRuns: 4, pools: {} });
    await daemon.runIteration(new Date('2030-01-01T00:30:00Z'));
    const tick = await daemon.runIteration(new Date('2030-01-01T01:30:00Z'));
    await gates.waiting(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([daemon.launcher.runningCount, daemon.launcher.queuedCount]).toEqual([1, 1]);
    gates.open();
    await daemon.waitForRuns(tick.runIds);
    expect(gates.peak).toBe(1);
  });

  it("materializes yesterday's partition at the schedule's tick, catches up once after downtime and records the missed ticks", async () => {
    const days = daily({ start: '2025-01-01', timezone: 'Europe/Paris' });
    const project = buildProject(
      ws.config,
      [
        asset({
          key: 'marts/daily',
          partitions: days,
          partitionColumn: 'day',
          materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replacePartitions(`select $1::date as day`, [ctx.partition!.start!]) }),
        }),
      ],
      [schedule({ name: 'nightly', cron: '30 4 * * *', timezone: 'Europe/Paris', selection: 'marts/daily', partition: 'latest' })],
    );
    const daemon = daemonFor(project);
    await daemon.runIteration(new Date('2025-03-01T12:00:00Z'));
    const tick = await daemon.runIteration(new Date('2025-03-02T03:30:05Z'));
    await daemon.waitForRuns(tick.runIds);
    expect((await ws.storage.latestMaterializations(['marts/daily'])).map((m) => m.partition)).toEqual(['2025-03-01']);

    // Down for three days: one run, for the latest tick's partition; three missed ticks recorded.
    const late = await daemon.runIteration(new Date('2025-03-05T09:00:00Z'));
    expect(late.runIds).toHaveLength(1);
    await daemon.waitForRuns(late.runIds);
    expect((await ws.storage.latestMaterializations(['marts/daily'])).map((m) => m.partition)).toEqual(['2025-03-01', '2025-03-04']);
    const stored = (await ws.storage.listDaemonTicks({ limit: 1 }))[0];
    expect(stored?.decisions.map((d) => [d.action, d.tickTime && new Date(d.tickTime).toISOString()])).toEqual([
      ['skipped', '2025-03-03T03:30:00.000Z'],
      ['skipped', '2025-03-04T03:30:00.000Z'],
      ['requested', '2025-03-05T03:30:00.000Z'],
    ]);
    expect(await ws.storage.daemonCursors()).toEqual({ 'schedule:nightly': '2025-03-05T09:00:00.000Z' });
    const run = await ws.storage.getRun(late.runIds[0] as string);
    expect(run).toMatchObject({
      trigger: 'schedule',
      selection: 'marts/daily',
      tags: { 'strata/schedule': 'nightly', 'strata/tick': '2025-03-05T03:30:00.000Z' },
    });
  });

  it('reaps a run whose process died and lets automation request its partitions again', async () => {
    const project = buildProject(ws.config, [
      asset({ key: 'raw/root', materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) }),
      sqlAsset('staging/mid', 'select v from raw.root', ['raw/root'], eager()),
    ]);
    expect((await ws.run(project, ['raw/root'])).status).toBe('success');
    const started = Date.now() - 10 * 60_000;
    await ws.storage.createRun({
      id: 'dead-run-1',
      status: 'running',
      trigger: 'automation',
      selection: 'staging/mid',
      assetKeys: ['staging/mid'],
      createdAt: started,
      startedAt: started,
      endedAt: null,
      error: null,
      tags: {},
    });
    const daemon = daemonFor(project);
    const tick = await daemon.runIteration(new Date());
    expect(tick.decisions.map((d) => [d.source, d.name, d.action])).toEqual([
      ['daemon', 'reap', 'error'],
      ['automation', 'staging/mid', 'requested'],
    ]);
    expect(tick.decisions[0]?.reason).toMatch(/^run dead-run died \(no heartbeat\): marked failed/);
    expect((await ws.storage.getRun('dead-run-1'))?.status).toBe('failed');
    expect((await daemon.waitForRuns(tick.runIds)).map((o) => o.status)).toEqual(['success']);
    // The daemon's own running runs are never reaped.
    expect((await daemon.runIteration(new Date())).decisions).toEqual([]);
  });

  it('loops around runIteration until its signal aborts, with the clock it is given', async () => {
    const project = buildProject(
      ws.config,
      [asset({ key: 'raw/x', materialize: () => undefined })],
      [schedule({ name: 's', cron: '@hourly', selection: 'raw/x' })],
    );
    let clock = Date.parse('2030-01-01T00:59:59Z');
    const daemon = new AssetDaemon({
      project,
      storage: ws.storage,
      warehouse: ws.warehouse,
      landing: new FileLandingZone(ws.config.landingDir),
      clock: () => new Date((clock += 1_000)),
    });
    const controller = new AbortController();
    const seen: number[] = [];
    await runDaemonLoop(daemon, {
      intervalMs: 5,
      signal: controller.signal,
      onTick: (tick) => {
        seen.push(tick.runIds.length);
        if (seen.length === 3) controller.abort();
      },
    });
    // Tick 1 (01:00:00) sees the schedule first, at its own tick time: it runs.
    expect(seen).toEqual([1, 0, 0]);
    await daemon.waitForRuns();
    expect((await ws.storage.listDaemonTicks()).map((t) => new Date(t.timestamp).toISOString())).toEqual([
      '2030-01-01T01:00:02.000Z',
      '2030-01-01T01:00:01.000Z',
      '2030-01-01T01:00:00.000Z',
    ]);
  });

  it('observes sources first: a changed source makes eager assets below it run; a failing observation fails the tick, not the schedules', async () => {
    let version: string | Error = 'v1';
    const project = buildProject(
      ws.config,
      [
        sourceAsset({
          key: 'landing/feed',
          observe: () => {
            if (version instanceof Error) throw version;
            return [{ dataVersion: version }];
          },
        }),
        asset({
          key: 'raw/loaded',
          deps: ['landing/feed'],
          automation: eager(),
          materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as x') }),
        }),
        asset({ key: 'raw/other', materialize: () => undefined }),
      ],
      [schedule({ name: 'hourly', cron: '0 * * * *', selection: 'raw/other' })],
    );
    const daemon = daemonFor(project);
    const first = await daemon.runIteration(new Date('2030-01-01T00:30:00Z'));
    expect(first.decisions.filter((d) => d.source === 'automation').map((d) => [d.name, d.action, d.reason])).toEqual([
      ['raw/loaded', 'requested', 'eager(): missing'],
    ]);
    await daemon.waitForRuns(first.runIds);
    expect((await daemon.runIteration(new Date('2030-01-01T00:31:00Z'))).runIds).toEqual([]);

    version = 'v2';
    const changed = await daemon.runIteration(new Date('2030-01-01T00:32:00Z'));
    expect(changed.decisions.map((d) => [d.name, d.action, d.reason])).toEqual([['raw/loaded', 'requested', 'eager(): upstream updated: landing/feed']]);
    await daemon.waitForRuns(changed.runIds);

    version = new Error('the vendor API is down');
    const broken = await daemon.runIteration(new Date('2030-01-01T01:00:00Z'));
    expect(broken.error).toMatch(/observing sources failed: .*the vendor API is down/);
    expect(broken.decisions.filter((d) => d.action === 'requested').map((d) => d.name)).toEqual(['hourly']);
    expect((await ws.storage.getDaemonTick(broken.tickId))?.status).toBe('failed');
    await daemon.waitForRuns(broken.runIds);
  });

  it('on stop with cancel, rolls back the running run and drops the queued ones, recording it', async () => {
    const gates = new Gates();
    const project = buildProject(
      ws.config,
      ['gate/a', 'gate/b'].map((key) => gatedAsset(key, gates)),
      ['a', 'b'].map((name) => schedule({ name, cron: '0 * * * *', selection: `gate/${name}` })),
    );
    const daemon = daemonFor(project);
    await daemon.runIteration(new Date('2030-01-01T00:30:00Z'));
    const tick = await daemon.runIteration(new Date('2030-01-01T01:30:00Z'));
    await gates.waiting(1);
    expect(await daemon.stop({ cancel: true })).toEqual({ dropped: 1 });
    const outcomes = await daemon.waitForRuns(tick.runIds);
    expect(outcomes.map((o) => o.status)).toEqual(['canceled', 'dropped']);
    expect((await ws.storage.getRun(tick.runIds[0] as string))?.status).toBe('canceled');
    expect(await ws.storage.getRun(tick.runIds[1] as string)).toBeUndefined();
    const last = (await ws.storage.listDaemonTicks({ limit: 1 }))[0];
    expect(last?.decisions[0]).toMatchObject({
      source: 'daemon',
      name: 'stop',
      reason: 'daemon stopped (running runs canceled and rolled back); 1 queued run dropped',
    });
  });
});
