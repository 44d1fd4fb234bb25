/**
 * The daemon runs a source's checks (here a dbt source's tests) when a tick observes a new data
 * version of it, against real DuckDB and SQLite files: the results are recorded as the checks'
 * results, the `check_result` events go to the run observers, a tick that saw nothing new runs
 * no check, and a failing blocking check is a decision of the tick, not a failed tick.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { RunObserver } from '../../core/engine/runs/run-observers.ts';
import type { Project } from '../../core/model/project.ts';
import { alertOf } from '../../core/model/alerts/alert-event.ts';
import type { EventRecord } from '../../storage/index.ts';
import { openTempWorkspace, workspaceDaemon, type TempWorkspace } from './temp-workspace.ts';

const FILES: Record<string, string> = {
  'dbt/dbt_project.yml': 'name: clicks\nmodels:\n  clicks:\n    +materialized: table\n',
  'dbt/models/sources.yml': `version: 2
sources:
  - name: raw
    tables:
      - name: events
        columns:
          - name: id
            data_tests: [not_null]
          - name: kind
            tests:
              - accepted_values: { values: [click, view], config: { severity: warn } }
`,
  'dbt/models/staging/stg_events.sql': "select id, kind from {{ source('raw', 'events') }}\n",
};

let ws: TempWorkspace;
beforeEach(async () => {
  ws = await openTempWorkspace('strata-daemon-source-checks-', { name: 'clicks', dbt: 'dbt' }, FILES);
  await ws.warehouse.run("create schema raw; create table raw.events (id integer, kind varchar); insert into raw.events values (1, 'click')");
});
afterEach(async () => {
  await ws.close();
});

/** An observer that keeps the `check_result` events it is told. */
class Recorder implements RunObserver {
  readonly checks: EventRecord[] = [];
  onRunEvent(event: EventRecord): void {
    if (event.type === 'check_result') this.checks.push(event);
  }
  async flush(): Promise<void> {}
}

const daemonFor = (project: Project, observer: RunObserver): AssetDaemon => workspaceDaemon(ws, project, [observer]);

const history = async () => (await ws.storage.checkHistory('raw/events')).map((c) => `${c.checkName} ${c.passed} ${c.runId}`).sort();

describe('daemon source checks', () => {
  it('checks a source when a tick observes a new data version of it, not at ticks that saw nothing new', async () => {
    const project = await loadProject(ws.dir);
    const observer = new Recorder();
    const daemon = daemonFor(project, observer);

    // First observation: a new data version, checked at once (no run involved).
    const first = await daemon.runIteration(new Date('2030-01-01T00:00:00Z'));
    expect(first.error).toBeUndefined();
    expect(await history()).toEqual(["accepted_values(kind, 'click', 'view') true null", 'not_null(id) true null']);
    expect(observer.checks.map((e) => [e.assetKey, e.data?.status])).toEqual([
      ['raw/events', 'passed'],
      ['raw/events', 'passed'],
    ]);

    // Nothing changed: no check runs again.
    await daemon.runIteration(new Date('2030-01-01T00:00:30Z'));
    expect(await history()).toHaveLength(2);
    expect(observer.checks).toHaveLength(2);

    // Bad data arrives: the next tick records the failed checks and tells the observers (alerts).
    await ws.warehouse.run("insert into raw.events values (null, 'scroll')");
    const bad = await daemon.runIteration(new Date('2030-01-01T00:01:00Z'));
    expect(bad.error).toBeUndefined();
    expect((await ws.storage.getDaemonTick(bad.tickId))?.status).toBe('success');
    expect(bad.decisions.map((d) => [d.source, d.name, d.action])).toEqual([['daemon', 'raw/events', 'skipped']]);
    expect(bad.decisions[0]?.reason).toMatch(/source raw\/events failed blocking check not_null\(id\)/);
    expect((await ws.storage.latestCheckResults(['raw/events'])).map((c) => `${c.checkName} ${c.passed}`).sort()).toEqual([
      "accepted_values(kind, 'click', 'view') false",
      'not_null(id) false',
    ]);
    expect(observer.checks.slice(2).map((e) => [e.data?.check, e.data?.status, e.level, e.runId])).toEqual([
      ['not_null(id)', 'failed', 'error', `daemon-tick-${bad.tickId}`],
      ["accepted_values(kind, 'click', 'view')", 'failed', 'warn', `daemon-tick-${bad.tickId}`],
    ]);
    // The alert observer reads them as it reads a run's.
    expect(observer.checks.slice(2).map((e) => alertOf(e, new Set())?.kind)).toEqual(['check_failure', 'check_warning']);

    // Still bad, but not new: not checked again.
    await daemon.runIteration(new Date('2030-01-01T00:01:30Z'));
    expect(await history()).toHaveLength(4);

    // A run reading the source checks it itself and skips the model reading it.
    const run = await ws.run(project, ['staging/stg_events']);
    expect(run.status).toBe('failed');
    const skipped = (await ws.storage.listEvents(run.runId)).find((e) => e.type === 'step_skipped' && e.assetKey === 'staging/stg_events');
    expect(skipped?.message).toMatch(/source raw\/events failed blocking check not_null\(id\)/);
    await daemon.close();
  });
});
