/**
 * dbt's microbatch incremental strategy on real DuckDB and SQLite files: a microbatch model is a
 * daily-partitioned asset from `begin` (UTC) up to today's batch; each batch reads only its rows
 * of a ref with `event_time` (not through `ref(…).render()`, nor a ref without `event_time`);
 * `is_incremental()` is true once the table exists; a range backfill after upstream changes
 * replaces exactly those days; `materialize --stale-only` builds `lookback` batches again before
 * the newest; bad configs are definition errors naming the file and the config's line.
 *
 * The events are dated relative to today, since the batches run up to the one in progress.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { listDbtNodes } from '../../core/engine/dbt/dbt-nodes.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { prepareMaterialization } from '../../core/engine/execution/materialize-request.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { schedule } from '../../core/model/definitions/schedule-definition.ts';
import { buildProject } from '../../core/model/project.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const DAY_MS = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** The UTC date `offset` days from today, `YYYY-MM-DD`. */
const day = (offset: number) => new Date(TODAY + offset * DAY_MS).toISOString().slice(0, 10);

/** One upstream event: its id, user, amount, and the day (offset from today) and hour it happened. */
interface SeedEvent {
  readonly id: number;
  readonly user: number;
  readonly amount: number;
  readonly day: number;
  readonly hour: number;
}

const USERS: Readonly<Record<number, string>> = { 1: 'ana', 2: 'bo' };

const EVENTS: readonly SeedEvent[] = [
  // Before begin: in stg_events, in no batch.
  { id: 1, user: 1, amount: 10, day: -5, hour: 23 },
  { id: 2, user: 1, amount: 20, day: -4, hour: 0 },
  { id: 3, user: 2, amount: 30, day: -4, hour: 23 },
  { id: 4, user: 2, amount: 40, day: -3, hour: 12 },
  { id: 5, user: 1, amount: 50, day: -2, hour: 1 },
  { id: 6, user: 2, amount: 60, day: -2, hour: 2 },
  { id: 7, user: 1, amount: 70, day: -1, hour: 5 },
];

const MODEL = `{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='occurred_at',
    begin='${day(-4)}',
    batch_size='day',
    lookback=2
) }}
select
    e.id,
    u.name,
    e.amount,
    e.occurred_at,
    (select count(*) from {{ ref('stg_events') }}) as batch_events,
    (select count(*) from {{ ref('stg_events').render() }}) as all_events,
    {% if is_incremental() %}(select count(*) >= 0 from {{ this }}){% else %}false{% endif %} as incremental_build
from {{ ref('stg_events') }} e
join {{ ref('users') }} u on u.user_id = e.user_id
`;

const FILES: Record<string, string> = {
  'dbt/dbt_project.yml': 'name: shop\nconfig-version: 2\nmodels:\n  shop:\n    +materialized: table\n',
  'dbt/seeds/users.csv': `user_id,name\n${Object.entries(USERS)
    .map(([id, name]) => `${id},${name}`)
    .join('\n')}\n`,
  'dbt/models/staging/stg_events.sql': "{{ config(event_time='occurred_at') }}\nselect id, user_id, amount, occurred_at from {{ ref('raw_events') }}\n",
  'dbt/models/marts/events_mb.sql': MODEL,
};

/** A row of marts.events_mb as the test reads it. */
interface BatchRow {
  readonly id: number;
  readonly name: string;
  readonly amount: number;
  readonly occurred_at: string;
  readonly batch_events: number;
  readonly all_events: number;
}

/** The rows the batches of `days` (offsets) write from `events`: each day's events, with the day's and all events counted. */
function expectedRows(events: readonly SeedEvent[], days: readonly number[]): BatchRow[] {
  return events
    .filter((e) => days.includes(e.day))
    .map((e) => ({
      id: e.id,
      name: USERS[e.user] as string,
      amount: e.amount,
      occurred_at: `${day(e.day)} ${String(e.hour).padStart(2, '0')}:00:00`,
      batch_events: events.filter((other) => other.day === e.day).length,
      all_events: events.length,
    }));
}

describe('dbt microbatch models', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-dbt-microbatch-', { name: 'batches', dbt: 'dbt' }, FILES);
    writeEvents(EVENTS);
  });

  afterEach(() => workspace.close());

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, file), text);
  }

  function writeEvents(events: readonly SeedEvent[]): void {
    const lines = events.map((e) => `${e.id},${e.user},${e.amount},${day(e.day)} ${String(e.hour).padStart(2, '0')}:00:00`);
    write('dbt/seeds/raw_events.csv', `id,user_id,amount,occurred_at\n${lines.join('\n')}\n`);
  }

  async function rows(): Promise<BatchRow[]> {
    return (await workspace.warehouse.query(
      "select id, name, amount::integer as amount, strftime(occurred_at, '%Y-%m-%d %H:%M:%S') as occurred_at, batch_events::integer as batch_events, all_events::integer as all_events from marts.events_mb order by id",
    )) as unknown as BatchRow[];
  }

  it('is a daily-partitioned asset from begin to the batch in progress, partitioned on event_time, listed as incremental (microbatch)', async () => {
    const project = await loadProject(workspace.dir);
    const spec = project.graph.spec('marts/events_mb');
    expect(spec.partitionColumn).toBe('occurred_at');
    expect(spec.partitions?.keys(new Date())).toEqual([day(-4), day(-3), day(-2), day(-1), day(0)]);
    // Upstream models with event_time stay unpartitioned: each batch reads its rows of them.
    expect(project.graph.spec('staging/stg_events').partitions).toBeUndefined();
    expect(spec.deps).toEqual(['seeds/users', 'staging/stg_events']);
    const nodes = await listDbtNodes(workspace.config);
    expect(nodes?.find((n) => n.id === 'model.shop.events_mb')?.materialized).toBe('incremental (microbatch)');
    expect(nodes?.find((n) => n.id === 'model.shop.stg_events')?.materialized).toBe('table');
  });

  it('materialize builds every batch from begin, each reading only its rows of the event_time ref', async () => {
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    // Event 1 is before begin: read by no batch; all_events (through .render()) counts it.
    expect(await rows()).toEqual(expectedRows(EVENTS, [-4, -3, -2, -1, 0]));
    const written = await workspace.storage.latestMaterializations(['marts/events_mb']);
    expect(written.map((m) => `${m.partition}:${m.rowCount}`).sort()).toEqual([`${day(-4)}:2`, `${day(-3)}:1`, `${day(-2)}:2`, `${day(-1)}:1`, `${day(0)}:0`]);
    // is_incremental(): false for the first batch (no table yet), true once the table exists.
    expect(
      await workspace.warehouse.query(
        "select strftime(occurred_at, '%Y-%m-%d') as day, bool_and(incremental_build) as incremental from marts.events_mb group by all order by day",
      ),
    ).toEqual([
      { day: day(-4), incremental: false },
      { day: day(-3), incremental: true },
      { day: day(-2), incremental: true },
      { day: day(-1), incremental: true },
    ]);
  });

  it('a backfill of two days after upstream changes replaces exactly those days; the other days keep their rows', async () => {
    expect((await workspace.run(await loadProject(workspace.dir))).status).toBe('success');
    const before = await rows();
    // Day -3's event changes, day -2 loses event 6 and gains 8 and 9, day -1's event changes too (not backfilled).
    const changed: SeedEvent[] = [
      ...EVENTS.filter((e) => e.id !== 6 && e.id !== 4 && e.id !== 7),
      { id: 4, user: 2, amount: 44, day: -3, hour: 12 },
      { id: 7, user: 1, amount: 77, day: -1, hour: 5 },
      { id: 8, user: 2, amount: 80, day: -2, hour: 22 },
      { id: 9, user: 1, amount: 90, day: -2, hour: 23 },
    ];
    writeEvents(changed);
    const project = await loadProject(workspace.dir);
    expect((await workspace.run(project, ['seeds/raw_events', 'staging/stg_events'])).status).toBe('success');
    const plan = buildPlan(project.graph, ['marts/events_mb'], { partitions: { from: day(-3), to: day(-2) } });
    expect(plan.steps.map((s) => s.id)).toEqual([`marts/events_mb@${day(-3)}`, `marts/events_mb@${day(-2)}`]);
    expect((await workspace.run(project, ['marts/events_mb'], { plan })).status).toBe('success');
    const kept = before.filter((r) => r.occurred_at.startsWith(day(-4)) || r.occurred_at.startsWith(day(-1)));
    const expected = [...kept, ...expectedRows(changed, [-3, -2])].sort((a, b) => a.id - b.id);
    expect(await rows()).toEqual(expected);
    // Day -1 still has the old amount of event 7, and the old count of all events.
    expect((await rows()).find((r) => r.id === 7)).toMatchObject({ amount: 70, all_events: 7 });
  });

  it('a batch reads only its rows of a snapshot with event_time; a bad event_time is an error naming the snapshot', async () => {
    write(
      'dbt/snapshots/events_snapshot.sql',
      "{% snapshot events_snapshot %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='occurred_at', event_time='occurred_at') }}\nselect id, user_id, amount, occurred_at from {{ ref('raw_events') }}\n{% endsnapshot %}\n",
    );
    write(
      'dbt/models/marts/snapshot_mb.sql',
      `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='occurred_at', begin='${day(-4)}', batch_size='day') }}
select id, occurred_at, (select count(*) from {{ ref('events_snapshot') }}) as batch_rows, (select count(*) from {{ ref('events_snapshot').render() }}) as all_rows
from {{ ref('events_snapshot') }}
`,
    );
    const project = await loadProject(workspace.dir);
    expect(project.graph.spec('marts/snapshot_mb').deps).toEqual(['snapshots/events_snapshot']);
    expect((await workspace.run(project)).status).toBe('success');
    const written = await workspace.warehouse.query(
      "select id::integer as id, strftime(occurred_at, '%Y-%m-%d') as day, batch_rows::integer as batch_rows, all_rows::integer as all_rows from marts.snapshot_mb order by id",
    );
    // Event 1 (before begin) is in the snapshot but in no batch; each batch counts its day's rows of the snapshot.
    expect(written).toEqual(
      EVENTS.filter((e) => e.day >= -4).map((e) => ({
        id: e.id,
        day: day(e.day),
        batch_rows: EVENTS.filter((other) => other.day === e.day).length,
        all_rows: EVENTS.length,
      })),
    );
    write(
      'dbt/snapshots/events_snapshot.sql',
      fs.readFileSync(path.join(workspace.dir, 'dbt/snapshots/events_snapshot.sql'), 'utf8').replace("event_time='occurred_at'", 'event_time=3'),
    );
    const error = await loadProject(workspace.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect(String((error as Error).message)).toContain('snapshot events_snapshot: event_time must be the name of a column of the snapshot, not 3');
  });

  it('materialize --stale-only builds the missing batches and the lookback batches before the newest', async () => {
    const first = await loadProject(workspace.dir);
    const upToTwoDaysAgo = buildPlan(first.graph, first.graph.keys, { partitions: { from: day(-4), to: day(-2) } });
    expect((await workspace.run(first, first.graph.keys, { plan: upToTwoDaysAgo })).status).toBe('success');
    const env = { project: first, storage: async () => workspace.storage, landing: new FileLandingZone(workspace.config.landingDir), now: new Date() };
    const { plan } = await prepareMaterialization(env, { select: 'marts/events_mb', staleOnly: true });
    // Missing: day -1 and today; lookback=2 also builds day -2 again (day -1 is already planned). Days -4 and -3 stay.
    expect(plan.steps.map((s) => s.partitions?.join())).toEqual([day(-2), day(-1), day(0)]);
    // Without --stale-only nothing changes: every batch; with a partition range (a backfill) no lookback either.
    const ranged = buildPlan(first.graph, ['marts/events_mb'], { partitions: { from: day(-1), to: day(-1) } });
    expect(ranged.steps.map((s) => s.partitions?.join())).toEqual([day(-1)]);
  });

  it('a daemon schedule run of the latest batch also builds the lookback batches before it, as dbt run does', async () => {
    const loaded = await loadProject(workspace.dir);
    expect((await workspace.run(loaded, ['seeds/raw_events', 'seeds/users', 'staging/stg_events'])).status).toBe('success');
    const latest = schedule({ name: 'latest_batch', cron: '0 * * * *', timezone: 'UTC', selection: 'marts/events_mb', partition: 'latest' });
    const project = buildProject(loaded.config, [...loaded.definitions.values()], [latest]);
    const daemon = new AssetDaemon({
      project,
      storage: workspace.storage,
      warehouse: workspace.warehouse,
      landing: new FileLandingZone(workspace.config.landingDir),
    });
    try {
      // The first tick starts the schedule; the next, past the hour, runs it.
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      await daemon.runIteration(new Date(hour - 60_000));
      const tick = await daemon.runIteration(new Date(hour + 5_000));
      expect(tick.runIds).toHaveLength(1);
      expect(tick.decisions.find((d) => d.action === 'requested')?.targets).toEqual([
        { key: 'marts/events_mb', partitions: [day(-2), day(-1), day(0)], count: 3 },
      ]);
      expect(await daemon.waitForRuns(tick.runIds)).toEqual([{ runId: tick.runIds[0], status: 'success' }]);
    } finally {
      await daemon.close();
    }
    const written = await workspace.storage.latestMaterializations(['marts/events_mb']);
    expect(written.map((m) => m.partition).sort()).toEqual([day(-2), day(-1), day(0)]);
    expect(await rows()).toEqual(expectedRows(EVENTS, [-2, -1, 0]));
  });

  it('lookback=0 builds only the stale batches', async () => {
    write('dbt/models/marts/events_mb.sql', MODEL.replace('lookback=2', 'lookback=0'));
    const project = await loadProject(workspace.dir);
    const upToTwoDaysAgo = buildPlan(project.graph, project.graph.keys, { partitions: { from: day(-4), to: day(-2) } });
    expect((await workspace.run(project, project.graph.keys, { plan: upToTwoDaysAgo })).status).toBe('success');
    const env = { project, storage: async () => workspace.storage, landing: new FileLandingZone(workspace.config.landingDir), now: new Date() };
    const { plan } = await prepareMaterialization(env, { select: 'marts/events_mb', staleOnly: true });
    expect(plan.steps.map((s) => s.partitions?.join())).toEqual([day(-1), day(0)]);
  });

  it('a source table with event_time is read for the batch only; ref(…).render() and other models read it whole', async () => {
    const clicks = [
      [1, -4, 10],
      [2, -4, 11],
      [3, -2, 0],
      [4, -9, 0],
    ] as const;
    const values = clicks.map(([id, offset, hour]) => `(${id}, TIMESTAMP '${day(offset)} ${String(hour).padStart(2, '0')}:00:00')`).join(', ');
    write('defs/raw/clicks.sql', `select * from (values ${values}) as t(id, clicked_at)\n`);
    write('dbt/models/sources.yml', 'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: clicks\n        config: { event_time: clicked_at }\n');
    write(
      'dbt/models/marts/clicks_mb.sql',
      `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='clicked_at', begin='${day(-4)}', batch_size='day') }}
select id, clicked_at, (select count(*) from {{ source('raw', 'clicks') }}) as day_clicks, (select count(*) from {{ source('raw', 'clicks').render() }}) as all_clicks
from {{ source('raw', 'clicks') }}
`,
    );
    write('dbt/models/staging/all_clicks.sql', "select count(*) as n from {{ source('raw', 'clicks') }}\n");
    const project = await loadProject(workspace.dir);
    expect(project.graph.spec('marts/clicks_mb').deps).toEqual(['raw/clicks']);
    expect((await workspace.run(project)).status).toBe('success');
    expect(
      await workspace.warehouse.query('select id, day_clicks::integer as day_clicks, all_clicks::integer as all_clicks from marts.clicks_mb order by id'),
    ).toEqual([
      { id: 1, day_clicks: 2, all_clicks: 4 },
      { id: 2, day_clicks: 2, all_clicks: 4 },
      { id: 3, day_clicks: 1, all_clicks: 4 },
    ]);
    expect(await workspace.warehouse.query('select n::integer as n from staging.all_clicks')).toEqual([{ n: 4 }]);
  });

  it('reports bad microbatch configs as definition errors naming the model file and the config line', async () => {
    const model = (config: string) => `{{ config(\n    materialized='incremental',\n    ${config}\n) }}\nselect * from {{ ref('stg_events') }}\n`;
    write('dbt/models/marts/no_event_time.sql', model("incremental_strategy='microbatch', begin='2025-01-01', batch_size='day'"));
    write('dbt/models/marts/no_begin.sql', model("incremental_strategy='microbatch', event_time='occurred_at', batch_size='day'"));
    write('dbt/models/marts/yearly.sql', model("incremental_strategy='microbatch', event_time='occurred_at', begin='2025-01-01',\n    batch_size='year'"));
    write('dbt/models/marts/weekly.sql', model("incremental_strategy='microbatch', event_time='occurred_at', begin='2025-01-01',\n    batch_size='week'"));
    write('dbt/models/marts/bad_begin.sql', model("incremental_strategy='microbatch', event_time='occurred_at', batch_size='day',\n    begin='2025-02-30'"));
    write(
      'dbt/models/marts/bad_lookback.sql',
      model("incremental_strategy='microbatch', event_time='occurred_at', begin='2025-01-01', batch_size='day',\n    lookback=-1"),
    );
    write(
      'dbt/models/marts/as_view.sql',
      "{{ config(materialized='view', incremental_strategy='microbatch', event_time='occurred_at', begin='2025-01-01', batch_size='day') }}\nselect 1 as x\n",
    );
    write('dbt/models/marts/stray_lookback.sql', "{{ config(materialized='table',\n    lookback=3) }}\nselect 1 as x\n");
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.assetKey} ${e.context.file} ${e.message}`).sort()).toEqual([
      "marts/as_view dbt/models/marts/as_view.sql:1 incremental_strategy='microbatch' needs materialized='incremental' (this model is materialized 'view')",
      "marts/bad_begin dbt/models/marts/bad_begin.sql:4 begin '2025-02-30' is not a date or timestamp (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC)",
      'marts/bad_lookback dbt/models/marts/bad_lookback.sql:4 config "lookback" must be an integer ≥ 0',
      "marts/no_begin dbt/models/marts/no_begin.sql:1 a microbatch model needs begin: the date (or timestamp) of its first batch, e.g. begin='2025-01-01'",
      'marts/no_event_time dbt/models/marts/no_event_time.sql:1 a microbatch model needs event_time: the column whose value places a row in its batch',
      "marts/stray_lookback dbt/models/marts/stray_lookback.sql:2 config lookback only applies to incremental_strategy='microbatch'",
      "marts/weekly dbt/models/marts/weekly.sql:4 batch_size 'week' is not one of 'hour', 'day', 'month'",
      "marts/yearly dbt/models/marts/yearly.sql:4 batch_size 'year' is not supported: Strata has no yearly partitions (use 'hour', 'day' or 'month')",
    ]);
  });
});
