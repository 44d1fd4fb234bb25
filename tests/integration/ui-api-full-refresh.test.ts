/**
 * Full refreshes and write counts through the UI server's JSON API, on an ephemeral port against
 * a temp project (SQLite + DuckDB files) with an incremental asset, a snapshot and a partitioned
 * asset below it: `fullRefresh: true` rebuilds the incremental asset from scratch; a snapshot in
 * the selection is refused (400 naming it) unless `force` names it, for runs and backfills alike,
 * and bad fields are 400 naming them, writing nothing; the asset status, the history and the
 * run's events carry what each write did.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSummaryText } from '../../core/model/format/write-summary-text.js';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { ApiServer } from '../../ui/server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { startQuietServer } from './api-client.ts';

const FILES = {
  'defs/raw/orders.sql': `-- materialization: incremental
-- unique_key: order_id
-- watermark: updated_at
select * from read_csv({{ landing }} || '/orders.csv', columns = {'order_id': 'INTEGER', 'status': 'VARCHAR', 'updated_at': 'TIMESTAMP'})
where updated_at > {{ watermark }}
`,
  'defs/snapshots/customers.sql': `-- materialization: snapshot
-- unique_key: customer_id
-- snapshot_strategy: check(all)
select * from read_csv({{ landing }} || '/customers.csv', columns = {'customer_id': 'INTEGER', 'name': 'VARCHAR'})
`,
  'defs/marts/daily_customers.sql': `-- partitioned_by: daily(start=2025-01-01, end=2025-01-03)
-- partition_column: day
select {{ partition_start }}::date as day, count(*) as n from snapshots.customers where is_current
`,
};

let workspace: TempWorkspace;
let server: ApiServer;

function writeLanding(file: string, lines: readonly string[]): void {
  fs.writeFileSync(path.join(workspace.config.landingDir, file), `${lines.join('\n')}\n`);
}

async function call(method: string, route: string, body?: unknown) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', origin: server.url } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(`${server.url}${route}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Calls `probe` until it returns something truthy (30 s at most). */
async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** POSTs a run, waits for it to end in success, and returns its events. */
async function run(body: Record<string, unknown>): Promise<{ type: string; message: string }[]> {
  const launched = await call('POST', '/api/runs', body);
  expect(launched.status, JSON.stringify(launched.body)).toBe(202);
  const ended = await waitFor(async () => {
    const { body: answer } = await call('GET', `/api/runs/${launched.body.runId}`);
    return ['success', 'failed', 'canceled'].includes(answer?.run?.status) ? answer : undefined;
  }, 'the run to end');
  expect(ended.run.status, ended.run.error).toBe('success');
  return ended.events;
}

const state = async (key: string) => (await call('GET', `/api/assets/${key}`)).body.state;

beforeAll(async () => {
  workspace = await openTempWorkspace('strata-ui-refresh-', { name: 'ui-refresh-test' }, FILES);
  fs.mkdirSync(workspace.config.landingDir, { recursive: true });
  writeLanding('orders.csv', ['order_id,status,updated_at', '1,new,2025-01-01 00:00:00', '2,new,2025-01-02 00:00:00']);
  writeLanding('customers.csv', ['customer_id,name', '1,Ana', '2,Ben']);
  workspace.warehouse.close();
  const project = await loadProject(workspace.dir);
  server = await startQuietServer(project, workspace.storage, { eventPollMs: 100 });
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('full refresh through the API', () => {
  it('fullRefresh rebuilds an incremental asset; its status, history and run events say what each build did', async () => {
    await run({ select: 'raw/orders' });
    expect((await state('raw/orders')).incremental).toEqual({ build: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, watermark: null });

    writeLanding('orders.csv', ['order_id,status,updated_at', '2,paid,2025-01-05 00:00:00', '3,new,2025-01-06 00:00:00']);
    const events = await run({ select: 'raw/orders' });
    expect(events.find((e) => e.type === 'materialization')?.message).toBe(
      'materialized raw/orders (3 rows): incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00',
    );
    expect((await state('raw/orders')).incremental).toEqual({
      build: 'incremental',
      rowsInserted: 1,
      rowsUpdated: 1,
      rowsDeleted: 0,
      watermark: '2025-01-02 00:00:00',
    });

    await run({ select: 'raw/orders', fullRefresh: true });
    const refreshed = await state('raw/orders');
    expect([refreshed.rowCount, refreshed.incremental]).toEqual([2, { build: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, watermark: null }]);
    const history = (await call('GET', '/api/history/raw/orders')).body;
    expect(history.runs.map((r: { metadata: Record<string, unknown> }) => writeSummaryText(r.metadata))).toEqual([
      'full: 2 inserted, 0 updated, 0 deleted',
      'incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00',
      'full: 2 inserted, 0 updated, 0 deleted',
    ]);
  });

  it('refuses a full refresh of a snapshot unless force names it (400 naming it, nothing run), for runs and backfills; then drops its history', async () => {
    await run({ select: 'snapshots/customers' });
    writeLanding('customers.csv', ['customer_id,name', '1,Ana Maria', '2,Ben']);
    await run({ select: 'snapshots/customers' });
    expect(await state('snapshots/customers')).toMatchObject({ rowCount: 3, snapshot: { rowsInserted: 1, rowsClosed: 1 } });

    const before = await workspace.storage.listRuns();
    const refused = await call('POST', '/api/runs', { select: 'snapshots/customers', fullRefresh: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'snapshot_refresh_refused', parameter: 'fullRefresh' });
    expect(refused.body.error.message).toBe(
      'fullRefresh would drop the history of snapshot snapshots/customers, which cannot be rebuilt from the source: leave it out of the selection, or list it in "force" (["snapshots/customers"]) to drop it',
    );
    const backfill = await call('POST', '/api/backfills', { select: '+marts/daily_customers', from: '2025-01-01', to: '2025-01-02', fullRefresh: true });
    expect([backfill.status, backfill.body.error.code]).toEqual([400, 'snapshot_refresh_refused']);
    expect(backfill.body.error.message).toContain('snapshots/customers');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ select: 'snapshots/customers', fullRefresh: true, force: ['raw/orders'] }, 'force', /force raw\/orders: not a selected snapshot/],
      [{ select: 'snapshots/customers', force: ['snapshots/customers'] }, 'force', /force goes with fullRefresh/],
      [{ select: 'snapshots/customers', fullRefresh: 'yes' }, 'fullRefresh', /must be true or false/],
      [{ select: 'snapshots/customers', fullRefresh: true, force: 'snapshots/customers' }, 'force', /must be a list of asset keys/],
    ];
    for (const [body, parameter, message] of cases) {
      const answer = await call('POST', '/api/runs', body);
      expect([answer.status, answer.body.error.parameter], JSON.stringify(body)).toEqual([400, parameter]);
      expect(answer.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await workspace.storage.listRuns()).toEqual(before);
    expect(await workspace.storage.listBackfills()).toEqual([]);

    await run({ select: 'snapshots/customers', fullRefresh: true, force: ['snapshots/customers'] });
    expect(await state('snapshots/customers')).toMatchObject({ rowCount: 2, snapshot: { rowsInserted: 2, rowsClosed: 0 } });
    const forced = await call('POST', '/api/backfills', {
      select: '+marts/daily_customers',
      from: '2025-01-01',
      to: '2025-01-02',
      fullRefresh: true,
      force: ['snapshots/customers'],
    });
    expect(forced.status, JSON.stringify(forced.body)).toBe(202);
    const done = await waitFor(async () => {
      const { body } = await call('GET', `/api/backfills/${forced.body.backfillId}`);
      return body?.backfill?.status !== 'running' ? body.backfill : undefined;
    }, 'the backfill to end');
    expect(done.status, done.error).toBe('success');
  });
});
