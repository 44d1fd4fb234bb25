/**
 * Alert kinds that do not come from a run's steps, and grouping across processes: a failing
 * daemon tick is a `daemon_error` alert; a `freshness_miss` event (emitted by the daemon's
 * freshness evaluation through the same observer hook) is sent with its lag; two processes
 * (two storage connections to one SQLite file) adding to one group send one summary.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertObserver, type AlertObserverOptions } from '../../core/engine/alerts/alert-observer.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { enqueueBackfill } from '../../core/engine/runs/queued-backfills.ts';
import { enqueueMaterialization } from '../../core/engine/runs/queued-runs.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker } from '../../core/engine/runs/run-worker.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { parseAlertRule } from '../../core/model/config/alert-rules.ts';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { SqliteStorage, type EventRecord, type Storage } from '../../storage/index.ts';
import { startHttpReceiver, type HttpReceiver } from './alert-receivers.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let tw: TempWorkspace;
let http: HttpReceiver;
let others: Storage[] = [];

beforeEach(async () => {
  tw = await openTempWorkspace('strata-alert-kinds-', { name: 'kinds' });
  http = await startHttpReceiver();
});

afterEach(async () => {
  for (const storage of others) await storage.close();
  others = [];
  await tw.close();
  await http.close();
});

/** A project of `marts/daily` and a source whose observation fails, with one webhook rule. */
function projectWith(rule: Record<string, unknown>): Project {
  const project = buildProject(tw.config, [
    sourceAsset({
      key: 'landing/feed',
      observe: () => {
        throw new Error('the vendor API is down');
      },
    }),
    asset({ key: 'marts/daily', materialize: () => undefined }),
  ]);
  return { ...project, alerts: [parseAlertRule({ webhook: `${http.base}/hook`, ...rule }, 'alerts[0]', 'strata.json')] };
}

function observerOf(project: Project, storage: Storage, extra: Partial<AlertObserverOptions> = {}): AlertObserver {
  return new AlertObserver({
    rules: project.alerts,
    graph: project.graph,
    storage: async () => storage,
    notice: () => undefined,
    uiUrl: 'http://127.0.0.1:3000',
    retry: { attempts: 2, firstDelayMs: 10 },
    ...extra,
  });
}

/** A step_failure of `marts/daily` for one day. */
function stepFailure(runId: string, day: string): EventRecord {
  return {
    runId,
    timestamp: Date.now(),
    type: 'step_failure',
    level: 'error',
    assetKey: 'marts/daily',
    partition: day,
    message: `marts/daily[${day}] failed`,
    data: { error: 'boom' },
  };
}

describe('alert kinds beyond steps', () => {
  it('sends a daemon_error when a daemon tick fails', async () => {
    const project = projectWith({ on: ['daemon_error'] });
    const observer = observerOf(project, tw.storage);
    const daemon = new AssetDaemon({
      project,
      storage: tw.storage,
      warehouse: tw.warehouse,
      landing: new FileLandingZone(tw.config.landingDir),
      observers: [observer],
    });
    const tick = await daemon.runIteration(new Date('2030-01-01T00:30:00Z'));
    expect(tick.error).toMatch(/the vendor API is down/);
    await daemon.stop();
    await daemon.close();
    expect(http.posts).toHaveLength(1);
    expect(http.posts[0]?.body).toMatchObject({ kind: 'daemon_error', asset: null, count: 1, summary: 'strata daemon tick failed' });
    expect(String(http.posts[0]?.body.error)).toContain('the vendor API is down');
  });

  it('sends a freshness_miss event told to the observer, selected by its asset', async () => {
    const project = projectWith({ on: ['freshness_miss'], select: 'marts/*' });
    const observer = observerOf(project, tw.storage);
    const miss = (assetKey: string): EventRecord => ({
      runId: '',
      timestamp: Date.now(),
      type: 'freshness_miss',
      level: 'warn',
      assetKey,
      partition: '2025-01-02',
      message: `${assetKey} is 30h old (freshness: 26h)`,
      data: { maxLagMs: 93_600_000, lagMs: 108_000_000, lastMaterializedAt: 1_735_776_000_000 },
    });
    observer.onRunEvent(miss('marts/daily'));
    observer.onRunEvent(miss('landing/feed'));
    await observer.flush(5_000);
    expect(http.posts.map((p) => p.body)).toMatchObject([
      {
        kind: 'freshness_miss',
        asset: 'marts/daily',
        partitions: { first: '2025-01-02', last: '2025-01-02' },
        message: 'marts/daily is 30h old (freshness: 26h)',
        summary: 'marts/daily missed its freshness policy (partition 2025-01-02)',
      },
    ]);
  });
});

describe('runs of dead processes', () => {
  it('sends run_failure for a run reaped as dead, selected by its assets, and none for one queued again', async () => {
    // A short window: the queued retry keeps groups not yet due from being sent at exit.
    const selected = projectWith({ on: ['run_failure'], select: 'marts/*', window: '1ms' });
    const other = projectWith({ on: ['run_failure'], select: 'landing/*', window: '1ms' });
    const started = Date.now() - 10 * 60_000;
    const run = (id: string, request?: object) => ({
      id,
      status: 'running' as const,
      trigger: 'manual' as const,
      selection: 'marts/daily',
      assetKeys: ['marts/daily'],
      createdAt: started,
      startedAt: started,
      endedAt: null,
      error: null,
      tags: {},
      ...(request === undefined ? {} : { request: request as never }),
    });
    await tw.storage.createRun(run('dead-cli-run'));
    // A run a worker claimed from the queue, with attempts left: reaped, it is queued again.
    await tw.storage.createRun(run('dead-worker-run', { kind: 'materialize', selection: 'marts/daily', keys: ['marts/daily'], now: started }));
    const observers = [observerOf(selected, tw.storage), observerOf(other, tw.storage)];
    const service = new RunService({ project: selected, storage: tw.storage, warehouse: tw.warehouse, observers });
    const reaped = await service.reapDeadRuns({ quiet: true });
    expect(reaped.map((r) => [r.runId, r.retryRunId === undefined])).toEqual(
      expect.arrayContaining([
        ['dead-cli-run', true],
        ['dead-worker-run', false],
      ]),
    );
    await service.flushObservers(5_000);
    expect(http.posts.map((p) => p.body)).toMatchObject([{ kind: 'run_failure', count: 1, runId: 'dead-cli-run' }]);
    expect(JSON.stringify(http.posts[0]?.body)).toContain('process died: no heartbeat');
  });
});

describe('queued runs that cannot start', () => {
  it('sends run_failure for a queued run whose selection no longer plans, selected by its assets', async () => {
    const project = projectWith({ on: ['run_failure'], select: 'marts/*' });
    const now = Date.now();
    await enqueueMaterialization(tw.storage, { select: 'marts/daily', now }, buildPlan(project.graph, ['marts/daily'], { now: new Date(now) }), {
      graph: project.graph,
    });
    // The project changed since the run was queued: marts/daily is gone.
    const changed = { ...buildProject(tw.config, [asset({ key: 'marts/weekly', materialize: () => undefined })]), alerts: project.alerts };
    const service = new RunService({ project: changed, storage: tw.storage, warehouse: tw.warehouse, observers: [observerOf(project, tw.storage)] });
    const signals = { stop: new AbortController().signal, cancel: new AbortController().signal };
    const ran = await runWorker({ service, concurrency: 1, once: true }, signals);
    expect(ran.map((r) => r.status)).toEqual(['failed']);
    await service.flushObservers(5_000);
    expect(http.posts.map((p) => p.body)).toMatchObject([{ kind: 'run_failure', count: 1 }]);
    expect(JSON.stringify(http.posts[0]?.body)).toContain('run could not start');
  });
});

describe('queued backfills', () => {
  it('sends backfill_done once when the worker ending the last run of a queued backfill completes it', async () => {
    const days = buildProject(tw.config, [
      asset({ key: 'marts/daily', partitions: daily({ start: '2025-01-01', end: '2025-01-04' }), materialize: () => undefined }),
    ]);
    const project = {
      ...days,
      alerts: [parseAlertRule({ on: ['backfill_done'], select: 'marts/*', webhook: `${http.base}/hook` }, 'alerts[0]', 'strata.json')],
    };
    const now = new Date('2025-02-01T00:00:00Z');
    const request = { selection: 'marts/daily', keys: ['marts/daily'], from: '2025-01-01', to: '2025-01-03', mode: 'all', grouping: 'per_partition' } as const;
    const queued = await enqueueBackfill({ project, storage: tw.storage, landing: new FileLandingZone(tw.config.landingDir), now }, request, {});
    expect(queued.runs).toHaveLength(3);
    const observer = observerOf(project, tw.storage);
    const service = new RunService({ project, storage: tw.storage, warehouse: tw.warehouse, observers: [observer] });
    const signals = { stop: new AbortController().signal, cancel: new AbortController().signal };
    expect((await runWorker({ service, concurrency: 1, once: true }, signals)).map((w) => w.status)).toEqual(['success', 'success', 'success']);
    await service.flushObservers(5_000);
    expect(http.posts.map((p) => p.body)).toMatchObject([{ kind: 'backfill_done', count: 1, summary: 'strata backfill ended (success)' }]);
  });
});

describe('grouping across processes', () => {
  it('sends one summary when two processes add to one group and both look for due groups', async () => {
    const project = projectWith({ on: ['run_failure'], window: '300ms' });
    const second = await SqliteStorage.open(tw.config.storageFile);
    others.push(second);
    const a = observerOf(project, tw.storage, { pollMs: 50 });
    const b = observerOf(project, second, { pollMs: 50 });
    for (let day = 1; day <= 30; day++) (day % 2 ? a : b).onRunEvent(stepFailure(day % 2 ? 'run-a' : 'run-b', `2025-01-${String(day).padStart(2, '0')}`));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await Promise.all([a.flush(2_000), b.flush(2_000)]);
    expect(http.posts).toHaveLength(1);
    expect(http.posts[0]?.body).toMatchObject({ count: 30, partitions: { first: '2025-01-01', last: '2025-01-30' } });
    expect((await tw.storage.listAlertDeliveries()).map((d) => [d.status, d.count])).toEqual([['delivered', 30]]);
  });
});
