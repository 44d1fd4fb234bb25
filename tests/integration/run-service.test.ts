/**
 * The run service as its callers use it: the UI server and the daemon reap dead runs through
 * it (with the CLI's words, once per dead run), the daemon opens the project's warehouse
 * through it by default, and each daemon run waiting for a busy warehouse can be canceled on
 * its own while the others keep waiting (the shared warehouse's per-caller abort).
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { schedule } from '../../core/model/definitions/schedule-definition.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { holdWarehouse } from '../warehouse-holder.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { startQuietServer } from './api-client.ts';

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-run-service-', { name: 'run-service-test' });
  // Two runs creating one schema at once conflict in DuckDB's catalog: create it first.
  await ws.warehouse.ensureSchemas(['raw']);
  // The callers open the warehouse file themselves, as they would in their own process.
  ws.warehouse.close();
});
afterEach(async () => {
  await ws.storage.close();
  fs.rmSync(ws.dir, { recursive: true, force: true });
});

/** Two assets in pools of their own, each on an hourly schedule. */
function twoScheduledAssets(): Project {
  const assets = ['raw/a', 'raw/b'].map((key) =>
    asset({ key, pool: key.replace('/', '_'), materialize: async (ctx) => ({ rowCount: await ctx.warehouse.replaceTable('select 1 as v') }) }),
  );
  const schedules = ['a', 'b'].map((name) => schedule({ name, cron: '0 * * * *', selection: `raw/${name}` }));
  return buildProject(ws.config, assets, schedules);
}

/** A run of another process that died ten minutes ago, holding a lease on `key`. */
async function deadRun(id: string, key: string): Promise<void> {
  const started = Date.now() - 10 * 60_000;
  await ws.storage.createRun({
    id,
    status: 'running',
    trigger: 'manual',
    selection: key,
    assetKeys: [key],
    createdAt: started,
    startedAt: started,
    endedAt: null,
    error: null,
    tags: {},
  });
  await ws.storage.acquireLeases(id, [{ assetKey: key, partition: null }], { now: started, expiresAt: Date.now() + 60_000 });
}

async function until<T>(what: string, value: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await value();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('reaping dead runs through the run service', () => {
  it("the UI server reaps a dead run once, in the CLI's words (leases released), before the runs it launches", async () => {
    const project = twoScheduledAssets();
    await deadRun('dead-ui-run', 'raw/a');
    const notices: string[] = [];
    const server = await startQuietServer(project, ws.storage, { notice: (m) => notices.push(m) });
    try {
      const launch = (select: string) =>
        fetch(`${server.url}/api/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: server.url },
          body: JSON.stringify({ select }),
        }).then(async (r) => {
          expect(r.status).toBe(202);
          return (await r.json()) as { runId: string };
        });
      const [a, b] = await Promise.all([launch('raw/a'), launch('raw/b')]);
      for (const { runId } of [a, b]) {
        const run = await until('the run to end', async () => {
          const stored = await ws.storage.getRun(runId);
          return stored && stored.status !== 'running' ? stored : undefined;
        });
        expect(run.status, run.error ?? '').toBe('success');
      }
      const reaped = notices.filter((m) => m.includes('marked failed'));
      expect(reaped).toHaveLength(1);
      expect(reaped[0]).toMatch(/^run dead-ui- marked failed: process died: no heartbeat since it started at \S+ \(timeout 1m\); released 1 lease$/);
      expect(await ws.storage.listLeases({ runId: 'dead-ui-run' })).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('the daemon reaps through the service too: recorded as the tick decision, not said twice, and never its own runs', async () => {
    const project = twoScheduledAssets();
    await deadRun('dead-daemon-run', 'raw/b');
    const notices: string[] = [];
    // No warehouse given: the daemon's run service opens the project's file while runs go.
    const daemon = new AssetDaemon({ project, storage: ws.storage, landing: new FileLandingZone(ws.config.landingDir), notice: (m) => notices.push(m) });
    const t0 = Date.parse('2030-01-01T00:30:00Z');
    const first = await daemon.runIteration(new Date(t0));
    expect(first.decisions.filter((d) => d.name === 'reap').map((d) => d.reason)).toEqual([
      expect.stringMatching(/^run dead-dae died \(no heartbeat\): marked failed/),
    ]);
    expect((await ws.storage.getRun('dead-daemon-run'))?.status).toBe('failed');
    expect(await ws.storage.listLeases({ runId: 'dead-daemon-run' })).toEqual([]);
    const tick = await daemon.runIteration(new Date(t0 + 3_600_000));
    expect(await daemon.waitForRuns(tick.runIds)).toEqual(tick.runIds.map((runId) => ({ runId, status: 'success' })));
    expect(notices.filter((m) => m.includes('marked failed'))).toEqual([]);
    await daemon.stop();
  });
});

describe("the daemon's runs waiting for a busy warehouse", () => {
  it('are canceled one at a time: the canceled run is recorded canceled, the other keeps waiting and then runs', async () => {
    const project = twoScheduledAssets();
    const notices: string[] = [];
    const daemon = new AssetDaemon({
      project,
      storage: ws.storage,
      landing: new FileLandingZone(ws.config.landingDir),
      settings: { tickSeconds: 30, maxConcurrentRuns: 2, pools: {} },
      notice: (m) => notices.push(m),
    });
    const holder = await holdWarehouse(ws.config.warehouseFile);
    try {
      const t0 = Date.parse('2030-01-01T00:30:00Z');
      await daemon.runIteration(new Date(t0));
      const tick = await daemon.runIteration(new Date(t0 + 3_600_000));
      const [first, second] = tick.runIds as [string, string];
      await until('a run to wait for the warehouse', () => notices.find((m) => m.startsWith('waiting for the warehouse')));
      expect(daemon.launcher.runningCount).toBe(2);
      expect(daemon.launcher.cancel(first)).toBe(true);
      expect(await daemon.launcher.settled([first])).toEqual([{ runId: first, status: 'canceled', error: expect.any(String) }]);
      expect(await ws.storage.getRun(first)).toMatchObject({ status: 'canceled' });
      expect(daemon.launcher.runningCount).toBe(1);
      holder.release();
      expect(await daemon.launcher.settled([second])).toEqual([{ runId: second, status: 'success' }]);
    } finally {
      holder.release();
      await daemon.stop({ cancel: true });
    }
  });
});
