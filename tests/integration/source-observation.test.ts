/**
 * Source observation against real SQLite and DuckDB files: a landing file that disappears is a
 * change (its readers become stale, saying the data is gone; a build that reads the file fails
 * naming it), and observation follows the retry policy, its failure recorded in the run's
 * events and the steps that read the source skipped with the cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { GONE_DATA_VERSION, sourceAsset, type ObserveContext } from '../../core/model/definitions/source-asset.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { findStale } from '../../core/engine/staleness/find-stale.ts';
import { describeReason } from '../../core/model/staleness/reason-text.ts';
import { readAssetStates } from '../../core/model/status/asset-states.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-sources-', { name: 'sources-test', retries: { maxRetries: 2, delay: 1 } });
  fs.mkdirSync(workspace.config.landingDir, { recursive: true });
});

afterEach(() => workspace.close());

const DAYS = daily({ start: '2025-01-01', end: '2025-01-04', timezone: 'UTC' });
const NOW = new Date('2025-02-01T00:00:00Z');

function drop(name: string, content: string): void {
  fs.writeFileSync(path.join(workspace.config.landingDir, name), content);
}

function remove(name: string): void {
  fs.rmSync(path.join(workspace.config.landingDir, name));
}

/** landing/events (one file per day, its content the version) → raw/events (daily); landing/menu (one file) → raw/menu. */
function filesProject(): Project {
  const version = (ctx: ObserveContext, name: string) => {
    const file = ctx.landing.path(name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  };
  return buildProject(workspace.config, [
    sourceAsset({
      key: 'landing/events',
      partitions: DAYS,
      observe: (ctx) =>
        (ctx.partitions ?? []).flatMap((day) => {
          const found = version(ctx, `events_${day}.csv`);
          return found === undefined ? [] : [{ partition: day, dataVersion: found, metadata: { file: `events_${day}.csv` } }];
        }),
    }),
    sourceAsset({
      key: 'landing/menu',
      observe: (ctx) => {
        const found = version(ctx, 'menu.csv');
        return found === undefined ? [] : [{ dataVersion: found, metadata: { file: 'menu.csv' } }];
      },
    }),
    asset({ key: 'raw/events', deps: ['landing/events'], partitions: DAYS, materialize: () => ({}) }),
    sqlAsset('raw/menu', "select * from read_csv('landing/menu.csv')", ['landing/menu']),
  ]);
}

async function staleNow(project: Project) {
  return findStale({ project, storage: workspace.storage, landing: new FileLandingZone(workspace.config.landingDir), now: NOW });
}

describe('a landing file that disappears', () => {
  beforeEach(() => {
    for (const day of DAYS.keys(NOW)) drop(`events_${day}.csv`, `rows of ${day}`);
    drop('menu.csv', 'item,price\nsoup,4\n');
  });

  it('makes the partitions that read it stale, and the reason says the data is gone', async () => {
    const project = filesProject();
    expect((await workspace.run(project, project.graph.keys, { now: NOW })).status).toBe('success');
    expect((await staleNow(project)).stale).toEqual([]);

    remove('events_2025-01-02.csv');
    const report = await staleNow(project);
    expect(report.stale.map((p) => `${p.key}@${p.partition}`)).toEqual(['raw/events@2025-01-02']);
    const reasons = report.reasonsOf('raw/events', '2025-01-02') ?? [];
    expect(reasons).toEqual([{ kind: 'upstream_changed', upstream: 'landing/events@2025-01-02', consumed: 'rows of 2025-01-02', current: GONE_DATA_VERSION }]);
    expect(describeReason(reasons[0]!)).toBe('upstream landing/events@2025-01-02 is gone: its data (rows of …) is no longer there');

    // Status counts the partition as not observed; observing again records nothing new.
    const [state] = await readAssetStates(project, workspace.storage, ['landing/events'], report);
    expect(state?.partitions).toMatchObject({ total: 3, materialized: 2, missing: 1 });
    const versions = async () => (await workspace.storage.latestObservations(['landing/events'])).map((o) => [o.partition, o.seq, o.dataVersion]);
    const gone = await versions();
    expect(gone[1]?.[2]).toBe(GONE_DATA_VERSION);
    await staleNow(project);
    expect(await versions()).toEqual(gone);
  });

  it('an unpartitioned source whose file is gone makes its reader stale, and rebuilding it fails naming the file', async () => {
    const project = filesProject();
    expect((await workspace.run(project, project.graph.keys, { now: NOW })).status).toBe('success');
    remove('menu.csv');
    expect((await staleNow(project)).reasonsOf('raw/menu', null)).toEqual([
      { kind: 'upstream_changed', upstream: 'landing/menu', consumed: 'item,price\nsoup,4\n', current: GONE_DATA_VERSION },
    ]);
    const result = await workspace.run(project, ['raw/menu'], { now: NOW });
    expect(result.status).toBe('failed');
    const error = result.steps[0]?.error ?? '';
    expect(error).toBe(`raw/menu reads landing/menu.csv, which does not exist (${path.join(workspace.dir, 'landing', 'menu.csv')})`);
    // The table it had is untouched.
    expect(await workspace.warehouse.query('select count(*) as n from raw.menu')).toEqual([{ n: 1 }]);
  });

  it('a file that comes back with the same content leaves its readers fresh; observe never sees the gone state as previous', async () => {
    const previousSeen: unknown[] = [];
    const project = filesProject();
    expect((await workspace.run(project, project.graph.keys, { now: NOW })).status).toBe('success');
    remove('events_2025-01-03.csv');
    await staleNow(project);
    drop('events_2025-01-03.csv', 'rows of 2025-01-03');
    const spy = buildProject(workspace.config, [
      ...[...project.definitions.values()].filter((d) => d.spec.key !== 'landing/events'),
      sourceAsset({
        key: 'landing/events',
        partitions: DAYS,
        observe: (ctx) => {
          previousSeen.push(ctx.previous.get('2025-01-03'));
          return (ctx.partitions ?? []).map((day) => ({ partition: day, dataVersion: fs.readFileSync(ctx.landing.path(`events_${day}.csv`), 'utf8') }));
        },
      }),
    ]);
    expect((await staleNow(spy)).stale).toEqual([]);
    expect(previousSeen).toEqual([undefined]);
  });

  it('observe may not return the reserved data version', async () => {
    const project = buildProject(workspace.config, [sourceAsset({ key: 'landing/bad', observe: () => [{ dataVersion: GONE_DATA_VERSION }] })]);
    await expect(staleNow(project)).rejects.toThrow(
      `source landing/bad: observe returned the data version "${GONE_DATA_VERSION}", which is reserved for data that is gone`,
    );
  });
});

describe('an observation that fails', () => {
  /** landing/db (its observe fails the first `failures` times) → raw/from_db → staging/after; raw/other reads nothing. */
  function flakyProject(failures: number, attempts: { n: number }, retryPolicy?: { maxRetries: number }): Project {
    return buildProject(workspace.config, [
      sourceAsset({
        key: 'landing/db',
        ...(retryPolicy ? { retryPolicy } : {}),
        observe: () => {
          attempts.n++;
          if (attempts.n <= failures) throw new Error(`connect ECONNREFUSED 127.0.0.1:5432 (attempt ${attempts.n})`);
          return [{ dataVersion: 'v1' }];
        },
      }),
      asset({ key: 'raw/from_db', deps: ['landing/db'], materialize: () => ({}) }),
      asset({ key: 'raw/other', materialize: () => ({}) }),
      asset({ key: 'staging/after', deps: ['raw/from_db'], materialize: () => ({}) }),
    ]);
  }

  it('is retried by the project policy, each retry an event, and then the run goes on', async () => {
    const attempts = { n: 0 };
    const result = await workspace.run(flakyProject(2, attempts), undefined, { now: NOW });
    expect(result.status).toBe('success');
    expect(attempts.n).toBe(3);
    const retries = (await workspace.storage.listEvents(result.runId)).filter((e) => e.type === 'observation_retry');
    expect(retries.map((e) => [e.assetKey, e.data?.attempt, e.data?.maxAttempts])).toEqual([
      ['landing/db', 1, 3],
      ['landing/db', 2, 3],
    ]);
    expect(retries[0]?.message).toBe('observing landing/db failed (attempt 1 of 3), retrying in 1ms: connect ECONNREFUSED 127.0.0.1:5432 (attempt 1)');
  });

  it('once its retries are spent fails the run with the cause, skipping only the steps that read the source', async () => {
    const attempts = { n: 0 };
    const result = await workspace.run(flakyProject(100, attempts), undefined, { now: NOW });
    expect(attempts.n).toBe(3);
    expect(result.status).toBe('failed');
    expect(result.error).toBe('observing source landing/db failed: connect ECONNREFUSED 127.0.0.1:5432 (attempt 3)');
    const outcome = Object.fromEntries(result.steps.map((s) => [s.key, [s.status, s.error]]));
    expect(outcome['raw/other']).toEqual(['success', undefined]);
    expect(outcome['raw/from_db']).toEqual(['skipped', 'source landing/db could not be observed: connect ECONNREFUSED 127.0.0.1:5432 (attempt 3)']);
    expect(outcome['staging/after']?.[0]).toBe('skipped');
    const events = await workspace.storage.listEvents(result.runId);
    const failure = events.filter((e) => e.type === 'observation_failure');
    expect(failure.map((e) => [e.assetKey, e.level, e.message, e.data?.attempts])).toEqual([
      ['landing/db', 'error', 'observing source landing/db failed: connect ECONNREFUSED 127.0.0.1:5432 (attempt 3)', 3],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run_failure', message: result.error });
  });

  it("follows the source's own retry policy over the project's", async () => {
    const attempts = { n: 0 };
    const result = await workspace.run(flakyProject(1, attempts, { maxRetries: 0 }), undefined, { now: NOW });
    expect(attempts.n).toBe(1);
    expect(result.status).toBe('failed');
  });

  it('is retried when status --stale and --stale-only observe, and throws the cause once retries are spent', async () => {
    const flaky = { n: 0 };
    expect((await staleNow(flakyProject(2, flaky))).stale.map((p) => p.key)).toContain('raw/from_db');
    expect(flaky.n).toBe(3);
    await expect(staleNow(flakyProject(100, { n: 0 }))).rejects.toThrow('observing source landing/db failed: connect ECONNREFUSED 127.0.0.1:5432 (attempt 3)');
  });
});
