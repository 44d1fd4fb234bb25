/**
 * The daemon's freshness watch against real SQLite and DuckDB files: `freshness_miss` raised once
 * per miss episode (not at every tick, not again by a restarted daemon), told to the run
 * observers, ended when the asset is fresh again so the next miss raises again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import type { RunObserver } from '../../core/engine/runs/run-observers.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import type { EventRecord } from '../../storage/index.ts';
import { aMaterialization, aRun } from './storage-fixtures.ts';
import fs from 'node:fs';
import path from 'node:path';
import { dbtTarget, loadDbtProject } from '../../core/engine/dbt/dbt-project-loader.ts';
import type { DefinitionError } from '../../core/model/errors.ts';
import { openTempWorkspace, workspaceDaemon, type TempWorkspace } from './temp-workspace.ts';

const HOUR = 3_600_000;

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-freshness-', { name: 'freshness-test' });
});
afterEach(async () => {
  await ws.close();
});

/** An observer that keeps what it is told. */
class Recorder implements RunObserver {
  readonly events: EventRecord[] = [];
  flushed = 0;
  onRunEvent(event: EventRecord): void {
    this.events.push(event);
  }
  async flush(): Promise<void> {
    this.flushed++;
  }
}

const daemonFor = (project: Project, observer: RunObserver): AssetDaemon => workspaceDaemon(ws, project, [observer]);

const sales = asset({ key: 'marts/sales', freshnessPolicy: { maxLag: '1h' }, materialize: () => ({ rowCount: 1 }) });
const unwatched = asset({ key: 'marts/other', materialize: () => ({ rowCount: 1 }) });

describe('daemon freshness watch', () => {
  it('raises freshness_miss once per episode, not after a restart, and again after recovery then a miss', async () => {
    const project = buildProject(ws.config, [sales, unwatched]);
    const observer = new Recorder();
    const start = new Date();

    // Never materialized: overdue at once, with no data.
    const first = await daemonFor(project, observer).runIteration(start);
    expect(observer.events).toHaveLength(1);
    expect(observer.events[0]).toMatchObject({
      runId: `daemon-tick-${first.tickId}`,
      type: 'freshness_miss',
      level: 'warn',
      assetKey: 'marts/sales',
      partition: null,
      timestamp: start.getTime(),
      data: { maxLagMs: HOUR, lagMs: null, lastMaterializedAt: null },
    });
    expect(observer.events[0]?.message).toMatch(/marts\/sales is overdue: never materialized/);

    // Later ticks of the same daemon, then of a restarted one: the episode is open, nothing raised.
    const daemon = daemonFor(project, observer);
    await daemon.runIteration(new Date(start.getTime() + 60_000));
    await daemonFor(project, observer).runIteration(new Date(start.getTime() + 120_000));
    expect(observer.events).toHaveLength(1);

    // Materialized: fresh again, the episode ends.
    await ws.run(project, ['marts/sales']);
    const [written] = await ws.storage.latestMaterializations(['marts/sales']);
    const writtenAt = written?.timestamp as number;
    await daemon.runIteration(new Date(writtenAt + 1_000));
    expect(await ws.storage.openFreshnessEpisodes()).toEqual([]);
    expect(observer.events).toHaveLength(1);

    // Two hours later it is overdue again: a new episode, raised once.
    const late = await daemon.runIteration(new Date(writtenAt + 2 * HOUR));
    await daemon.runIteration(new Date(writtenAt + 3 * HOUR));
    expect(observer.events).toHaveLength(2);
    expect(observer.events[1]).toMatchObject({
      runId: `daemon-tick-${late.tickId}`,
      assetKey: 'marts/sales',
      data: { maxLagMs: HOUR, lagMs: 2 * HOUR, lastMaterializedAt: writtenAt },
    });
    const episodes = await ws.storage.freshnessEpisodes('marts/sales');
    expect(episodes.map((e) => [e.startedAt, e.endedAt])).toEqual([
      [writtenAt + 2 * HOUR, null],
      [start.getTime(), writtenAt + 1_000],
    ]);
    expect(episodes[0]?.event).toEqual(observer.events[1]);
    // An asset without a policy is never raised.
    expect(observer.events.every((e) => e.assetKey === 'marts/sales')).toBe(true);

    await daemon.close();
    expect(observer.flushed).toBeGreaterThan(0);
  });

  it('measures a daily asset from the end of its newest materialized partition', async () => {
    const daily_ = asset({
      key: 'marts/daily_sales',
      partitions: daily({ start: '2025-03-01' }),
      freshnessPolicy: { maxLag: '26h' },
      materialize: () => ({ rowCount: 1 }),
    });
    const project = buildProject(ws.config, [daily_]);
    await ws.storage.createRun(aRun('r1', { status: 'success' }));
    const writtenAt = Date.parse('2025-03-10T02:00:00Z');
    await ws.storage.commitStep({ events: [], materializations: [aMaterialization('r1', 'marts/daily_sales', '2025-03-09', { timestamp: writtenAt })] });
    const observer = new Recorder();
    const daemon = daemonFor(project, observer);
    // 2025-03-09 ends at 03-10 00:00: 25 h later it is fresh, 27 h later overdue.
    await daemon.runIteration(new Date('2025-03-11T01:00:00Z'));
    expect(observer.events).toEqual([]);
    await daemon.runIteration(new Date('2025-03-11T03:00:00Z'));
    expect(observer.events).toHaveLength(1);
    expect(observer.events[0]).toMatchObject({
      partition: '2025-03-09',
      data: { maxLagMs: 26 * HOUR, lagMs: 27 * HOUR, lastMaterializedAt: writtenAt },
    });
    expect(observer.events[0]?.message).toContain('overdue since 2025-03-11T02:00:00.000Z');
  });

  it('still tells the other observers, and records the tick as a success, when one observer throws', async () => {
    const project = buildProject(ws.config, [sales]);
    const observer = new Recorder();
    const lines: string[] = [];
    const throwing: RunObserver = {
      onRunEvent: () => {
        throw new Error('observer broke');
      },
      flush: async () => undefined,
    };
    const daemon = new AssetDaemon({
      project,
      storage: ws.storage,
      warehouse: ws.warehouse,
      landing: new FileLandingZone(ws.config.landingDir),
      settings: { tickSeconds: 30, maxConcurrentRuns: 1, pools: {} },
      observers: [throwing, observer],
      log: (line) => lines.push(line),
    });
    const tick = await daemon.runIteration(new Date());
    expect(tick.error).toBeUndefined();
    expect(tick.freshnessMisses.map((e) => e.assetKey)).toEqual(['marts/sales']);
    expect(observer.events.map((e) => e.assetKey)).toEqual(['marts/sales']);
    expect(lines).toContain('freshness_miss: marts/sales is overdue: never materialized (freshness policy: 1h)');
  });

  it('watches a dbt source on its newest loaded_at_field value, observed through the warehouse the daemon shares with its runs', async () => {
    const dbt = path.join(ws.dir, 'dbt');
    fs.mkdirSync(path.join(dbt, 'models'), { recursive: true });
    fs.writeFileSync(path.join(dbt, 'dbt_project.yml'), 'name: feed\nconfig-version: 2\n');
    fs.writeFileSync(
      path.join(dbt, 'models', 'sources.yml'),
      'version: 2\nsources:\n  - name: raw\n    loaded_at_field: loaded_at\n    freshness: { error_after: { count: 1, period: day } }\n    tables:\n      - name: feed\n',
    );
    const errors: DefinitionError[] = [];
    const { sources } = loadDbtProject(dbt, ws.dir, dbtTarget(ws.config), errors);
    expect(errors).toEqual([]);
    const project = buildProject(ws.config, [...sources]);
    const now = new Date();
    const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    await ws.warehouse.query(
      `create schema if not exists raw; create table raw.feed (loaded_at timestamp); insert into raw.feed values ('${stamp(now.getTime() - 2 * 24 * HOUR)}')`,
    );
    const observer = new Recorder();

    // Loaded two days ago, observed now: overdue by a day (the observation time does not count).
    await daemonFor(project, observer).runIteration(now);
    expect(observer.events).toHaveLength(1);
    expect(observer.events[0]).toMatchObject({ type: 'freshness_miss', assetKey: 'raw/feed', data: { maxLagMs: 24 * HOUR } });
    expect(observer.events[0]?.message).toMatch(/raw\/feed is overdue: its newest data is 2d/);

    // A new load: the next tick observes it and ends the episode; nothing more is raised.
    await ws.warehouse.query(`insert into raw.feed values ('${stamp(now.getTime())}')`);
    await daemonFor(project, observer).runIteration(new Date(now.getTime() + 60_000));
    expect(observer.events).toHaveLength(1);
    expect(await ws.storage.openFreshnessEpisodes()).toEqual([]);
  });
});
