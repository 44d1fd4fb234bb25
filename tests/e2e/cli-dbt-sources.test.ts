/**
 * dbt sources whose tables no asset builds (the tables are made in DuckDB by this test, as a
 * loader outside Strata would) become Strata source assets, through the built CLI: observed in the
 * warehouse so a change of their rows makes the models reading them stale, with descriptions, and
 * `loaded_at_field` + `freshness` as a freshness policy whose data time is the newest
 * `loaded_at_field` value; bad source config exits 2 naming the file and line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox, writeDuckDb } from './cli-harness.ts';

const SOURCES_YML = `version: 2
sources:
  - name: raw
    description: What the loader lands
    loaded_at_field: loaded_at
    freshness:
      warn_after: { count: 6, period: hour }
      error_after: { count: 1, period: day }
    tables:
      - name: events
        identifier: events_v1
        description: One row per click
        columns:
          - name: id
            description: The click's id
      - name: late
        freshness:
          error_after: { count: 2, period: day }
          filter: kind = 'real'
      - name: unwatched
        freshness: null
        config: { tags: [landing] }
      - name: retired
        config: { enabled: false }
`;

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: clicks\nconfig-version: 2\nmodels:\n  clicks:\n    +materialized: table\n',
  'models/sources.yml': SOURCES_YML,
  'models/staging/stg_events.sql': "select id, loaded_at from {{ source('raw', 'events') }}\n",
  'models/staging/stg_late.sql': "select count(*) as n from {{ source('raw', 'late') }} join {{ source('raw', 'unwatched') }} using (id)\n",
};

const HOUR = 3_600_000;
let sandbox: Sandbox;
let project: string;

const load = writeDuckDb;

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface StatusRow {
  key: string;
  state: string;
  freshness?: { status: string; maxLagMs: number; dataTime: number | null; lagMs: number | null };
}

beforeAll(async () => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('clicks', FILES);
  // `events` was loaded an hour ago; the newest real row of `late` is from 2020 (a newer row is not real).
  await load(
    project,
    `create schema raw;
     create table raw.events_v1 (id integer, loaded_at timestamp);
     insert into raw.events_v1 values (1, '${stamp(Date.now() - 30 * HOUR)}'), (2, '${stamp(Date.now() - HOUR)}');
     create table raw.late (id integer, kind varchar, loaded_at timestamp);
     insert into raw.late values (1, 'real', '2020-01-01 00:00:00'), (2, 'test', '${stamp(Date.now())}');
     create table raw.unwatched (id integer);
     insert into raw.unwatched values (1);`,
  );
});

afterAll(() => sandbox?.cleanup());

describe('dbt sources no asset builds, through the CLI', () => {
  it('become source assets with kind dbt, description, column descriptions and tags (a disabled table is left out)', () => {
    const list = runCli(['list', '--json', '--project', project]);
    expect(list.status, list.stderr).toBe(0);
    const assets = parseJson<{ key: string; kinds: string[]; description?: string; columnDescriptions?: Record<string, string> }[]>(list);
    const events = assets.find((a) => a.key === 'raw/events_v1');
    expect(events).toMatchObject({ kinds: ['source', 'dbt'], description: 'One row per click', columnDescriptions: { id: "The click's id" } });
    expect(assets.map((a) => a.key)).toEqual(expect.arrayContaining(['raw/late', 'raw/unwatched', 'staging/stg_events', 'staging/stg_late']));
    expect(assets.map((a) => a.key)).not.toContain('raw/retired');
    const ls = runCli(['dbt', 'ls', '--json', '--project', project]);
    expect(parseJson<{ id: string; key: string; materialized: string }[]>(ls)).toContainEqual(
      expect.objectContaining({ id: 'source.clicks.raw.events', key: 'raw/events_v1', materialized: 'source' }),
    );
    const tagged = runCli(['list', '--json', '--select', 'tag:landing', '--project', project]);
    expect(parseJson<{ key: string }[]>(tagged).map((a) => a.key)).toEqual(['raw/unwatched']);
  });

  it('the models reading them build, and status shows each source observed with its freshness from the newest loaded_at', () => {
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    const status = runCli(['status', '--json', '--project', project]);
    expect(status.status, status.stderr).toBe(0);
    const rows = parseJson<StatusRow[]>(status);
    const row = (key: string) => rows.find((r) => r.key === key);
    expect(row('raw/events_v1')).toMatchObject({ state: 'observed', freshness: { status: 'fresh', maxLagMs: 24 * HOUR } });
    // The data time is the newest loaded_at (an hour ago), not when it was observed (now).
    expect(row('raw/events_v1')?.freshness?.lagMs).toBeGreaterThan(HOUR - 60_000);
    expect(row('raw/events_v1')?.freshness?.lagMs).toBeLessThan(2 * HOUR);
    // `filter` leaves out the newer test row: the newest real row is from 2020.
    expect(row('raw/late')?.freshness).toMatchObject({ status: 'overdue', maxLagMs: 48 * HOUR, dataTime: Date.parse('2020-01-01T00:00:00Z') });
    expect(row('raw/unwatched')?.freshness).toBeUndefined();
    const text = runCli(['status', '--select', 'raw/*', '--project', project]);
    expect(text.stdout).toMatch(/raw\/events_v1\s+observed.*\sok\s*$/m);
    expect(text.stdout).toMatch(/raw\/late\s+observed.*\soverdue \d/m);
  });

  it('a change of a source table makes the models reading it stale, and only those', async () => {
    const before = runCli(['status', '--stale', '--json', '--project', project]);
    expect(before.status, before.stderr).toBe(0);
    expect(parseJson<unknown[]>(before)).toEqual([]);
    await load(project, 'update raw.events_v1 set id = 3 where id = 2');
    const after = runCli(['status', '--stale', '--json', '--project', project]);
    expect(after.status, after.stderr).toBe(0);
    const stale = parseJson<{ key: string; reasons: { kind: string }[] }[]>(after);
    expect(stale.map((s) => s.key)).toEqual(['staging/stg_events']);
    expect(stale[0]?.reasons.map((r) => r.kind)).toContain('upstream_changed');
    // --stale-only observes the source (the warehouse opened, then let go for the run) and rebuilds that model alone.
    const rebuild = runCli(['materialize', '--select', '*', '--stale-only', '--project', project]);
    expect(rebuild.status, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/succeeded: 1 materialized/);
    expect(parseJson<unknown[]>(runCli(['status', '--stale', '--json', '--project', project]))).toEqual([]);
  });

  it('status --select naming only a source observes it: a new load makes it fresh', async () => {
    await load(project, `insert into raw.late values (3, 'real', '${stamp(Date.now() - HOUR)}')`);
    const status = runCli(['status', '--json', '--select', 'raw/late', '--project', project]);
    expect(status.status, status.stderr).toBe(0);
    expect(parseJson<StatusRow[]>(status)[0]?.freshness).toMatchObject({ status: 'fresh' });
  });

  it('bad source config exits 2 naming the file and line', () => {
    const cases: [string, string, RegExp][] = [
      [
        'database',
        SOURCES_YML.replace('    loaded_at_field: loaded_at\n', '    loaded_at_field: loaded_at\n    database: elsewhere\n'),
        /models\/sources\.yml:6.*database "elsewhere".*warehouse is database "warehouse"/,
      ],
      [
        'column tests',
        SOURCES_YML.replace("            description: The click's id\n", "            description: The click's id\n            tests: [is_even]\n"),
        /raw\/events_v1.*models\/sources\.yml.*column id: test "is_even" is not supported/,
      ],
      ['period', SOURCES_YML.replace('count: 1, period: day', 'count: 1, period: fortnight'), /models\/sources\.yml:6.*error_after must be/],
      ['no loaded_at_field', SOURCES_YML.replace('    loaded_at_field: loaded_at\n', ''), /models\/sources\.yml:5.*has a freshness but no loaded_at_field/],
    ];
    for (const [name, yml, message] of cases) {
      const dir = sandbox.writeProject(`bad-${name.replace(/ /g, '-')}`, { ...FILES, 'models/sources.yml': yml });
      const result = runCli(['list', '--project', dir]);
      expect(result.status, `${name}: ${result.stdout}`).toBe(2);
      expect(result.stderr, name).toMatch(message);
      expect(result.stderr, name).not.toMatch(/\n\s+at /);
    }
  });
});
