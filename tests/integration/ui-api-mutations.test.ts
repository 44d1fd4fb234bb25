/**
 * The UI server's mutations and live updates on an ephemeral port against a temp project
 * (SQLite + DuckDB files): POST /api/runs and /api/backfills run to success in the server
 * process, /api/events streams what happens (the server's own runs and runs of "another
 * process"), bad requests write nothing, the mutation guard, and closing the server.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../core/engine/execution/executor.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import type { ApiServer } from '../../ui/server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { holdWarehouse } from '../warehouse-holder.ts';
import { call, openStream, startQuietServer, waitFor } from './api-client.ts';

const FILES = {
  'package.json': '{ "type": "module", "private": true }',
  'defs/raw/orders.sql': `select * from (values (1, date '2025-01-01', 10.0), (2, date '2025-01-02', 20.0), (3, date '2025-01-03', 5.0)) as t(order_id, business_date, total)
`,
  'defs/staging/orders.sql': `-- check: not_null(order_id)
select order_id, business_date, total from raw.orders
`,
  'defs/marts/daily_revenue.sql': `-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)
-- partition_column: business_date
select business_date, sum(total) as revenue
from staging.orders
where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
group by business_date
`,
  // Runs until canceled; DuckDB reports its progress (a filter in the query would hide it).
  'defs/slow/spin.sql': `select sum(i % 7) as n from range(20000000000) t(i)
`,
};
const TOKEN = 'test-token-0123456789abcdef';

let workspace: TempWorkspace;
let project: Project;
let server: ApiServer;

const post = (path: string, body: unknown, headers?: Record<string, string>) => call(server.url, 'POST', path, body, headers);
const get = (path: string) => call(server.url, 'GET', path);

/** A POST to the test server with a chosen Host header (fetch does not let a caller set one). */
function postWithHost(host: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${server.url}/api/runs`);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { method: 'POST', hostname: url.hostname, port: url.port, path: url.pathname, headers: { host, 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Waits until a run has ended; returns it. */
function runEnded(base: string, runId: string) {
  return waitFor(async () => {
    const { body } = await call(base, 'GET', `/api/runs/${runId}`);
    return ['success', 'failed', 'canceled'].includes(body?.run?.status) ? body : undefined;
  }, `run ${runId} to end`);
}

beforeAll(async () => {
  // One DuckDB thread: slow/spin is one task, and DuckDB updates a query's progress only while the
  // calling thread runs its tasks (with a background thread on it, there may be no estimate).
  workspace = await openTempWorkspace('strata-ui-mutations-', { name: 'ui-mutations-test', warehouse: { threads: 1 } }, FILES);
  // The UI server opens the warehouse file itself, as it would in its own process.
  workspace.warehouse.close();
  project = await loadProject(workspace.dir);
  server = await startQuietServer(project, workspace.storage, { eventPollMs: 100 });
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('POST /api/runs and GET /api/events', () => {
  it('launches a run that ends in success, and streams its run, run_event and asset events', async () => {
    const listed = await get('/api/assets');
    expect(listed.body.assets.find((a: any) => a.key === 'staging/orders')).toMatchObject({ state: 'missing', stale: 1 });
    const stream = await openStream(server.url);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-cache');
    const { status, body } = await post('/api/runs', { select: '+staging/orders' });
    expect(status).toBe(202);
    expect(body).toEqual({ runId: expect.any(String), steps: 2 });
    const ended = await runEnded(server.url, body.runId);
    expect(ended.run).toMatchObject({ status: 'success', trigger: 'manual', selection: '+staging/orders', tags: { launched_by: 'ui' } });
    expect(ended.events.map((e: any) => e.type)).toContain('materialization');
    // The cached asset list is recomputed once storage changed.
    expect((await get('/api/assets')).body.assets.find((a: any) => a.key === 'staging/orders')).toMatchObject({ state: 'fresh', stale: 0, runId: body.runId });
    const asset = await get('/api/assets/staging/orders');
    expect(asset.body.latestMaterialization).toMatchObject({ runId: body.runId, rowCount: 3 });

    await stream.find((f) => f.event === 'run' && f.data.id === body.runId && f.data.status === 'success', 'the run to stream as success');
    await stream.find((f) => f.event === 'run_event' && f.data.runId === body.runId && f.data.type === 'run_success', 'its run_success event');
    await stream.find((f) => f.event === 'asset' && f.data.key === 'staging/orders', 'an asset event');
    expect(stream.frames.find((f) => f.event === 'asset' && f.data.key === 'raw/orders')?.data).toEqual({ key: 'raw/orders', partition: null });
    const ids = stream.frames.filter((f) => f.event === 'run_event').map((f) => f.data.id);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    stream.close();
  });

  it('streams a run of another process, found by polling storage; ?run= limits run_event to one run', async () => {
    const all = await openStream(server.url);
    const other = await openStream(server.url, '?run=nothing-like-it');
    const warehouse = await DuckDBWarehouse.open(':memory:');
    try {
      const result = await executeRun({
        project,
        plan: buildPlan(project.graph, ['raw/orders']),
        storage: workspace.storage,
        warehouse,
        landing: new FileLandingZone(workspace.config.landingDir),
        selection: 'raw/orders',
      });
      expect(result.status).toBe('success');
      await all.find((f) => f.event === 'run_event' && f.data.runId === result.runId && f.data.type === 'run_success', 'the other run to stream');
      await all.find((f) => f.event === 'run' && f.data.id === result.runId && f.data.status === 'success', 'its run record');
      await other.find((f) => f.event === 'run' && f.data.id === result.runId && f.data.status === 'success', 'the run on the filtered stream');
      expect(other.frames.filter((f) => f.event === 'run_event')).toEqual([]);
    } finally {
      warehouse.close();
      all.close();
      other.close();
    }
  });

  it('validates the query of /api/events', async () => {
    const unknown = await get('/api/events?since=1');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.parameter).toBe('since');
    expect((await get(`/api/events?run=${encodeURIComponent('a b')}`)).body.error.parameter).toBe('run');
  });

  it('answers a stale-only request with nothing stale with 200 and no run', async () => {
    const before = (await workspace.storage.listRuns()).length;
    const { status, body } = await post('/api/runs', { select: 'raw/orders', staleOnly: true });
    expect(status).toBe(200);
    expect(body).toEqual({ runId: null, steps: 0, message: expect.stringMatching(/^Nothing to do: the 1 selected asset is fresh/) });
    expect((await workspace.storage.listRuns()).length).toBe(before);
  });

  it('rejects bad bodies, fields, selections and partitions with 400 naming the field, writing nothing', async () => {
    const before = await workspace.storage.listRuns();
    const cases: [unknown, number, string | undefined, string][] = [
      [{ select: 5 }, 400, 'select', 'usage'],
      [{}, 400, 'select', 'usage'],
      [{ select: 'raw/orders', force: true }, 400, 'force', 'usage'],
      [{ select: 'raw/orders', staleOnly: 'yes' }, 400, 'staleOnly', 'usage'],
      [{ select: 'staging/ordrs' }, 400, 'select', 'selection_invalid'],
      [{ select: 'raw/orders', partition: '2025-01-01' }, 400, 'partition', 'usage'],
      [{ select: 'marts/daily_revenue', partition: '2031-01-01' }, 400, 'partition', 'partition_invalid'],
      [[1, 2], 400, undefined, 'bad_json'],
    ];
    for (const [body, status, parameter, code] of cases) {
      const response = await post('/api/runs', body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error.code, JSON.stringify(body)).toBe(code);
      expect(response.body.error.parameter, JSON.stringify(body)).toBe(parameter);
    }
    const typo = await post('/api/runs', { select: 'staging/ordrs' });
    expect(typo.body.error.suggestions).toContain('staging/orders');
    expect(await workspace.storage.listRuns()).toEqual(before);
  });

  it('answers a wrong content type with 415, a large body with 413, malformed JSON with 400 bad_json', async () => {
    const plain = await post('/api/runs', 'select=raw/orders', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    const large = await post('/api/runs', { select: 'raw/orders', padding: 'x'.repeat(17 * 1024) });
    expect(large.status).toBe(413);
    const malformed = await post('/api/runs', '{"select": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('bad_json');
    for (const text of [plain.text, large.text, malformed.text]) expect(text).not.toMatch(/\n\s+at /);
  });
});

describe('POST /api/backfills and GET /api/backfills/ID', () => {
  it('runs a backfill to success; its record shows done = total and its runs', async () => {
    const { status, body } = await post('/api/backfills', { select: 'marts/daily_revenue', from: '2025-01-01', to: '2025-01-03' });
    expect(status).toBe(202);
    const done = await waitFor(async () => {
      const { body: b } = await get(`/api/backfills/${body.backfillId.slice(0, 8)}`);
      if (!b.backfill) throw new Error(JSON.stringify(b));
      return b.backfill.status !== 'running' ? b : undefined;
    }, 'the backfill to end');
    expect(done.backfill).toMatchObject({ id: body.backfillId, status: 'success', total: 3, done: 3, failed: 0, mode: 'all', grouping: 'policy' });
    expect(done.runs).toHaveLength(1);
    expect(done.runs[0]).toMatchObject({ status: 'success', trigger: 'backfill' });
  });

  it('answers bad requests with 400 naming select, from or to, and unknown ids with 404', async () => {
    const before = await workspace.storage.listBackfills();
    const cases: [Record<string, unknown>, string][] = [
      [{ select: 'staging/orders', from: '2025-01-01', to: '2025-01-03' }, 'select'],
      [{ select: 'marts/daily_revenue', from: 'yesterday', to: '2025-01-03' }, 'from'],
      [{ select: 'marts/daily_revenue', from: '2025-01-01', to: '2025-02-30' }, 'to'],
      [{ select: 'marts/daily_revenue', from: '2025-01-03', to: '2025-01-01' }, 'from'],
      [{ select: 'marts/daily_revenue', from: '2026-01-01', to: '2026-01-05' }, 'from'],
      [{ select: 'marts/daily_revenue', from: '2025-01-01', to: '2025-01-03', mode: 'some' }, 'mode'],
      [{ select: 'marts/daily_revenue', from: '2025-01-01' }, 'to'],
    ];
    for (const [body, parameter] of cases) {
      const response = await post('/api/backfills', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.parameter, JSON.stringify(body)).toBe(parameter);
    }
    expect(await workspace.storage.listBackfills()).toEqual(before);
    expect((await get('/api/backfills/zzzzzzzz')).status).toBe(404);
    const malformed = await get(`/api/backfills/${encodeURIComponent('a b')}`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.parameter).toBe('id');
  });
});

describe('the mutation guard', () => {
  it('refuses requests without a same-origin header or from another origin (403), accepts Sec-Fetch-Site: same-origin', async () => {
    const bare = await fetch(`${server.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"select":"raw/orders"}' });
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as any).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('--token') });
    const foreign = await post('/api/runs', { select: 'raw/orders' }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    // Past the guard, a bad body is a 400: the guard let it through.
    const fetchSite = await call(server.url, 'POST', '/api/runs', { select: 5 }, { origin: '', 'sec-fetch-site': 'same-origin' });
    expect(fetchSite.status).toBe(400);
  });

  it('refuses a POST whose Host only starts like a loopback address, with a matching Origin (DNS rebinding), and writes nothing', async () => {
    const port = new URL(server.url).port;
    const before = await workspace.storage.listRuns();
    for (const host of [`127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port}@evil.example`, `[::1].evil.example:${port}`]) {
      const response = await postWithHost(host, { origin: `http://${host}` }, '{"select":"raw/orders"}');
      expect(response.status, host).toBe(403);
      expect(JSON.parse(response.body).error.code, host).toBe('host_not_allowed');
    }
    expect(await workspace.storage.listRuns()).toEqual(before);
    // The same request addressed to this machine passes the host check and the guard.
    const local = await postWithHost(`127.0.0.1:${port}`, { origin: `http://127.0.0.1:${port}` }, '{"select":5}');
    expect(local.status).toBe(400);
  });

  it('with a token: 401 without or with a wrong one, 202 with Authorization: Bearer TOKEN', async () => {
    const guarded = await startQuietServer(project, workspace.storage, { token: TOKEN });
    try {
      const missing = await call(guarded.url, 'POST', '/api/runs', { select: 'raw/orders' }, { origin: 'http://evil.example' });
      expect(missing.status).toBe(401);
      const wrong = await call(
        guarded.url,
        'POST',
        '/api/runs',
        { select: 'raw/orders' },
        { origin: 'http://evil.example', authorization: 'Bearer not-the-token-at-all' },
      );
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('unauthorized');
      const ok = await call(guarded.url, 'POST', '/api/runs', { select: 'raw/orders' }, { origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` });
      expect(ok.status).toBe(202);
      expect((await runEnded(guarded.url, ok.body.runId)).run.status).toBe('success');
    } finally {
      await guarded.close();
    }
  });

  it('refuses every change on a server bound beyond loopback without a token', async () => {
    const open = await startQuietServer(project, workspace.storage, { loopbackBound: false });
    try {
      const refused = await call(open.url, 'POST', '/api/runs', { select: 'raw/orders' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('--token');
      expect((await call(open.url, 'GET', '/api/runs')).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

/** Opens the project's warehouse read-write in a child process, as a CLI command would. */
function openWarehouseElsewhere() {
  const script = `import { DuckDBInstance } from '@duckdb/node-api'; (await DuckDBInstance.create(${JSON.stringify(workspace.config.warehouseFile)})).closeSync();`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
}

describe('runs at the same time, and the warehouse between runs', () => {
  it('runs two overlapping requests side by side to success, then lets other processes open the warehouse', async () => {
    const [first, second] = await Promise.all([post('/api/runs', { select: '+staging/orders' }), post('/api/runs', { select: '+marts/daily_revenue' })]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const ended = await Promise.all([runEnded(server.url, first.body.runId), runEnded(server.url, second.body.runId)]);
    expect(ended.map((r) => r.run.status)).toEqual(['success', 'success']);
    const free = openWarehouseElsewhere();
    expect(free.status, free.stderr).toBe(0);
  });
});

describe('a run waiting for the warehouse', () => {
  it('is listed as queued first in GET /api/runs until another process lets go of the warehouse', async () => {
    const holder = await holdWarehouse(workspace.config.warehouseFile);
    try {
      const { status, body } = await post('/api/runs', { select: 'raw/orders' });
      expect(status).toBe(202);
      const listed = await get('/api/runs?limit=5');
      expect(listed.body.runs[0]).toMatchObject({ id: body.runId, status: 'queued', selection: 'raw/orders' });
      expect((await get('/api/runs?status=queued')).body.runs.map((r: any) => r.id)).toEqual([body.runId]);
      expect((await get('/api/runs?status=success')).body.runs.map((r: any) => r.id)).not.toContain(body.runId);
      // A second one is canceled while it waits: stored as canceled before it started.
      const second = await post('/api/runs', { select: 'raw/orders' });
      expect((await post(`/api/runs/${second.body.runId}/cancel`, {})).status).toBe(202);
      const canceled = await runEnded(server.url, second.body.runId);
      expect(canceled.run.status).toBe('canceled');
      expect(canceled.events.map((e: any) => e.type)).toEqual(['run_canceled']);
      holder.release();
      expect((await runEnded(server.url, body.runId)).run.status).toBe('success');
      expect((await get('/api/runs?limit=1')).body.runs[0]).toMatchObject({ id: body.runId, status: 'success' });
    } finally {
      holder.release();
    }
  });
});

describe('canceling', () => {
  it("streams the running step's progress live; cancels a run of this server: its running step rolls back and the run ends canceled; an ended run is 409", async () => {
    const stream = await openStream(server.url);
    try {
      const { body } = await post('/api/runs', { select: 'slow/spin' });
      await stream.find((f) => f.event === 'run_event' && f.data.runId === body.runId && f.data.type === 'step_start', 'the slow step to start');
      // The running step's progress streams live (it is not stored, so it has no id).
      const progress = await stream.find((f) => f.event === 'run_event' && f.data.runId === body.runId && f.data.type === 'step_progress', 'step_progress');
      expect(progress.data).toMatchObject({ assetKey: 'slow/spin', data: { percentage: expect.any(Number) } });
      expect(progress.data.id).toBeUndefined();
      const cancel = await post(`/api/runs/${body.runId.slice(0, 8)}/cancel`, {});
      expect(cancel).toMatchObject({ status: 202, body: { runId: body.runId, canceling: true } });
      const ended = await runEnded(server.url, body.runId);
      expect(ended.run.status).toBe('canceled');
      expect(ended.events.filter((e: { type: string }) => e.type === 'step_progress')).toEqual([]);
      const again = await post(`/api/runs/${body.runId}/cancel`, {});
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('run_ended');
    } finally {
      stream.close();
    }
  });

  it("refuses (409) a plain run of another process, naming it; cancels a backfill's run anywhere through its backfill", async () => {
    const storage = workspace.storage;
    const at = Date.now();
    const running = {
      status: 'running' as const,
      trigger: 'manual' as const,
      selection: 'raw/orders',
      assetKeys: ['raw/orders'],
      createdAt: at,
      startedAt: at,
      endedAt: null,
      error: null,
      heartbeatAt: at,
    };
    await storage.createRun({ ...running, id: 'elsewhere-plain', tags: {}, pid: 999_999 });
    const plain = await post('/api/runs/elsewhere-plain/cancel', {});
    expect(plain.status).toBe(409);
    expect(plain.body.error).toMatchObject({ code: 'not_cancelable' });
    expect(plain.body.error.message).toContain('process 999999');
    await storage.createBackfill({
      id: 'elsewhere-backfill',
      selection: 'raw/orders',
      from: '2025-01-01',
      to: '2025-01-03',
      status: 'running',
      mode: 'all',
      grouping: 'policy',
      runIds: ['elsewhere-run'],
      total: 3,
      done: 1,
      failed: 0,
      error: null,
      createdAt: at,
      updatedAt: at,
    });
    await storage.createRun({ ...running, id: 'elsewhere-run', trigger: 'backfill', tags: { backfill: 'elsewhere-backfill' }, pid: 999_999 });
    expect((await post('/api/runs/elsewhere-run/cancel', {})).status).toBe(202);
    expect((await storage.getBackfill('elsewhere-backfill'))?.status).toBe('canceled');
    const ended = await post('/api/backfills/elsewhere-backfill/cancel', {});
    expect(ended.status).toBe(409);
    expect(ended.body.error.code).toBe('backfill_ended');
    for (const id of ['elsewhere-plain', 'elsewhere-run']) await storage.updateRun(id, { status: 'failed', endedAt: Date.now() });
  });

  it('cancels a backfill of this server; unknown ids are 404, malformed ones 400, and the guard applies', async () => {
    const holder = await holdWarehouse(workspace.config.warehouseFile);
    try {
      const { status, body } = await post('/api/backfills', { select: 'marts/daily_revenue', from: '2025-01-01', to: '2025-01-03' });
      expect(status).toBe(202);
      // Waiting for the warehouse, it is not stored yet, but listed first.
      expect((await get('/api/backfills?limit=5')).body.backfills[0]).toMatchObject({
        id: body.backfillId,
        status: 'running',
        selection: 'marts/daily_revenue',
      });
      expect((await call(server.url, 'POST', `/api/backfills/${body.backfillId}/cancel`, {}, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await post(`/api/backfills/${body.backfillId}/cancel`, {})).status).toBe(202);
      const done = await waitFor(async () => {
        const { backfill } = (await get(`/api/backfills/${body.backfillId}`)).body;
        return backfill.status === 'running' ? undefined : backfill;
      }, 'the backfill to end');
      expect(done.status).toBe('canceled');
    } finally {
      holder.release();
    }
    expect((await post('/api/runs/no-such-run/cancel', {})).status).toBe(404);
    expect((await post('/api/backfills/no-such-backfill/cancel', {})).status).toBe(404);
    expect((await post('/api/runs/bad%20id/cancel', {})).status).toBe(400);
  });
});

describe('closing the server', () => {
  it('cancels the runs it launched, waits for them, and ends event streams', async () => {
    const own = await startQuietServer(project, workspace.storage, { eventPollMs: 100 });
    const stream = await openStream(own.url);
    const { status, body } = await call(own.url, 'POST', '/api/runs', { select: 'slow/spin' });
    expect(status).toBe(202);
    await stream.find((f) => f.event === 'run_event' && f.data.runId === body.runId && f.data.type === 'step_start', 'the slow step to start');
    // While a UI run goes on, the server holds the warehouse: another process cannot open it.
    const busy = openWarehouseElsewhere();
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toMatch(/lock/i);
    await own.close();
    await stream.ended;
    const run = await workspace.storage.getRun(body.runId);
    expect(run?.status).toBe('canceled');
    await expect(fetch(`${own.url}/api/runs`)).rejects.toThrow();
  });
});
