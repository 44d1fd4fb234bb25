/**
 * Team mode end to end: Postgres storage (a schema of the test cluster) and a Postgres
 * warehouse (a database of its own), every command a real process. `assets ui` (a real HTTP
 * server) streams a run that another process launches, live, and then serves its run, assets and
 * lineage; `assets daemon --once` rebuilds the one partition an upstream write made stale; Ctrl-C
 * of `assets materialize` while a step's statement runs on the warehouse rolls the step back: no
 * table, the run canceled, no lease held, no statement left running.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { editFile, parseJson, runCli, Sandbox, startCli } from './cli-harness.ts';
import { startUi } from './ui-harness.ts';

let sandbox: Sandbox;
const missing = postgresMissing();
const SCHEMA = `cli_team_${process.pid}`;
const DATABASE = `cli_team_wh_${process.pid}`;

beforeAll(() => {
  sandbox = Sandbox.create();
});
afterAll(() => sandbox?.cleanup());

/** The test cluster's URL with `search_path` (storage) or another database (warehouse). */
function storageUrl(): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}
function warehouseUrl(): string {
  const url = new URL(postgresUrl());
  url.pathname = `/${DATABASE}`;
  return url.toString();
}
/** Rows of a query on the warehouse database. */
async function warehouseRows<T extends Record<string, unknown>>(query: string): Promise<T[]> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: warehouseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(query)).rows;
  } finally {
    await client.end();
  }
}

const ENV = () => ({ STRATA_E2E_STORAGE: storageUrl(), STRATA_E2E_WAREHOUSE: warehouseUrl() });

function project(name: string, files: Record<string, string>): string {
  return sandbox.writeProject(name, {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name, storage: 'env:STRATA_E2E_STORAGE', warehouse: 'env:STRATA_E2E_WAREHOUSE' }),
    ...files,
  });
}

const SALES = [
  '-- partitioned_by: static(eu, us)',
  '-- partition_column: region',
  'select {{ partition_key }}::text as region, i as n, clock_timestamp() as loaded_at from generate_series(1, 4) as t(i)',
].join('\n');
const TOTALS = [
  '-- partitioned_by: static(eu, us)',
  '-- partition_column: region',
  '-- automation: eager',
  'select region, sum(n)::int as total, max(loaded_at) as loaded_at from raw.sales where region = {{ partition_key }} group by region',
].join('\n');

/** Statements of the warehouse database in a pg_sleep (a slow step writing). */
function sleeping(): Promise<unknown[]> {
  return postgresRows(`select pid from pg_stat_activity where datname = $1 and query like '%pg_sleep%' and state = 'active' and pid <> pg_backend_pid()`, [
    DATABASE,
  ]);
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads `GET /api/events` (Server-Sent Events) into a list until `stop` is called. */
function listen(url: string): { readonly events: { event: string; data: unknown }[]; stop(): void } {
  const events: { event: string; data: unknown }[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(`${url}/api/events`, { signal: controller.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => controller.abort() };
}

describe.skipIf(missing !== undefined)(`team mode: Postgres storage and warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() =>
    onPostgres(
      `drop schema if exists ${SCHEMA} cascade`,
      `create schema ${SCHEMA}`,
      `drop database if exists ${DATABASE} with (force)`,
      `create database ${DATABASE}`,
    ),
  );
  afterAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`, `drop database if exists ${DATABASE} with (force)`));

  it('the UI streams a run another process launches, live, then shows its run, assets and lineage; the daemon rebuilds the stale partition', async () => {
    const dir = project('team-ui', { 'defs/raw/sales.sql': SALES, 'defs/marts/totals.sql': TOTALS });
    const ui = await startUi(dir, [], ENV());
    try {
      const { url } = ui;
      const stream = listen(url);
      await until('the stream is open', async () => (await fetch(`${url}/api/runs`)).ok);
      await new Promise((resolve) => setTimeout(resolve, 700));

      const run = runCli(['materialize', '--select', '*', '--json', '--project', dir], ENV());
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const runId = parseJson<{ runId: string }>(run).runId;
      await until('the UI streamed the run to its end', () =>
        stream.events.some(
          (e) => e.event === 'run' && (e.data as { id: string; status: string }).id === runId && (e.data as { status: string }).status === 'success',
        ),
      );
      const steps = stream.events
        .filter((e) => e.event === 'run_event' && (e.data as { type: string }).type === 'step_success')
        .map((e) => `${(e.data as { assetKey: string }).assetKey}@${(e.data as { partition: string }).partition}`);
      expect(steps.sort()).toEqual(['marts/totals@eu', 'marts/totals@us', 'raw/sales@eu', 'raw/sales@us']);
      const ids = stream.events.filter((e) => e.event === 'run_event').map((e) => (e.data as { id: number }).id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(stream.events.some((e) => e.event === 'asset' && (e.data as { key: string }).key === 'marts/totals')).toBe(true);
      stream.stop();

      const runs = (await (await fetch(`${url}/api/runs`)).json()) as { runs: { id: string; status: string }[] };
      expect(runs.runs).toEqual([expect.objectContaining({ id: runId, status: 'success' })]);
      const detail = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as { events: unknown[] };
      expect(detail.events.length).toBeGreaterThan(4);
      const assets = (await (await fetch(`${url}/api/assets`)).json()) as { assets: { key: string }[] };
      expect(assets.assets.map((a) => a.key).sort()).toEqual(['marts/totals', 'raw/sales']);
      const lineage = JSON.stringify(await (await fetch(`${url}/api/lineage/marts/totals`)).json());
      expect(lineage).toContain('raw/sales');

      // An upstream write makes one partition stale: the daemon rebuilds it, and only it, on the Postgres warehouse.
      const before = await warehouseRows<{ region: string; loaded_at: Date }>('select region, loaded_at from marts.totals order by region');
      expect(runCli(['materialize', '--select', 'raw/sales', '--partition', 'eu', '--project', dir], ENV()).status).toBe(0);
      const daemon = runCli(['daemon', '--once', '--project', dir], ENV());
      expect(daemon.status, daemon.stdout + daemon.stderr).toBe(0);
      expect(daemon.stdout).toMatch(/requested automation marts\/totals@eu: eager\(\)/);
      const after = await warehouseRows<{ region: string; loaded_at: Date; total: number }>(
        'select region, loaded_at, total from marts.totals order by region',
      );
      expect(after.map((r) => r.total)).toEqual([10, 10]);
      expect(after[0]?.loaded_at.getTime()).toBeGreaterThan(before[0]?.loaded_at.getTime() as number);
      expect(after[1]?.loaded_at.getTime()).toBe(before[1]?.loaded_at.getTime());
      expect(
        await postgresRows(
          `select partition_key as p, count(*)::int as n from ${SCHEMA}.materializations where asset_key = 'marts/totals' group by 1 order by 1`,
        ),
      ).toEqual([
        { p: 'eu', n: 2 },
        { p: 'us', n: 1 },
      ]);
    } finally {
      await ui.stop();
    }
  });

  it('Ctrl-C of assets materialize rolls back the step in flight on the warehouse: no table, the run canceled, no lease, no statement left', async () => {
    const dir = project('team-cancel', { 'defs/raw/slow.sql': 'select n, length(pg_sleep(0.5)::text) as slept from generate_series(1, 120) as t(n)\n' });
    const started = startCli(['materialize', '--select', 'raw/slow', '--project', dir], { env: ENV() });
    await until('the step runs its statement', async () => (await sleeping()).length > 0);
    started.child.kill('SIGINT');
    const result = await started.done;
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/Run [0-9a-f]{8} canceled/);
    expect(await postgresRows(`select status from ${SCHEMA}.runs where selection = 'raw/slow'`)).toEqual([{ status: 'canceled' }]);
    expect(await postgresRows(`select * from ${SCHEMA}.leases`)).toEqual([]);
    expect(await warehouseRows(`select to_regclass('raw.slow') as t`)).toEqual([{ t: null }]);
    await until('no statement of the run is left on the warehouse', async () => (await sleeping()).length === 0, 5_000);
  });

  it('a second Ctrl-C of the daemon cancels its run on the warehouse: the table keeps what it had, the run canceled, no lease', async () => {
    const dir = project('team-daemon-cancel', {
      'defs/raw/numbers.sql': 'select n, clock_timestamp() as loaded_at from generate_series(1, 120) as t(n)\n',
      'defs/marts/slow.sql': '-- automation: eager\nselect n, length(pg_sleep(0)::text) as slept, 1 as version from raw.numbers\n',
    });
    expect(runCli(['materialize', '--select', '*', '--project', dir], ENV()).status).toBe(0);
    // New upstream data: the daemon rebuilds marts/slow, now slowly.
    editFile(path.join(dir, 'defs/marts/slow.sql'), 'pg_sleep(0)::text) as slept, 1 as version', 'pg_sleep(0.5)::text) as slept, 2 as version');
    expect(runCli(['materialize', '--select', 'raw/numbers', '--project', dir], ENV()).status).toBe(0);
    const earlier = (await postgresRows<{ id: string }>(`select id from ${SCHEMA}.runs`)).map((r) => r.id);
    const daemon = startCli(['daemon', '--interval', '1s', '--project', dir], { env: ENV() });
    await until('the daemon run writes the table', async () => (await sleeping()).length > 0);
    daemon.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    daemon.child.kill('SIGINT');
    const result = await daemon.done;
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(await postgresRows(`select status from ${SCHEMA}.runs where not (id = any($1))`, [earlier])).toEqual([{ status: 'canceled' }]);
    expect(await postgresRows(`select * from ${SCHEMA}.leases`)).toEqual([]);
    expect(await warehouseRows('select version, count(*)::int as n from marts.slow group by version')).toEqual([{ version: 1, n: 120 }]);
    await until('no statement of the run is left on the warehouse', async () => (await sleeping()).length === 0, 5_000);
  });
});
