/**
 * The read-only JSON API (ui/api-app.ts) on an ephemeral port against a temp project that was
 * materialized first: each route's happy path, 400s naming the bad parameter, 404s, security
 * headers, and no absolute path in any response body.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { createApiApp } from '../../ui/api-app.ts';
import { startApiServer } from '../../ui/server.ts';
import { listenOnLoopback, type LoopbackServer } from './loopback-server.ts';
import { parsePort } from '../../core/cli/commands/ui-command.ts';
import { UsageError } from '../../core/model/errors.ts';
import { depsVersionOf } from '../../core/model/definitions/code-version.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES = {
  'package.json': '{ "type": "module", "private": true }',
  'defs/raw/orders.sql': `-- description: Raw orders.
-- group: raw
select * from (values (1, date '2025-01-01', 10.0), (2, date '2025-01-02', 20.0), (3, date '2025-01-02', 5.0)) as t(order_id, business_date, total)
`,
  'defs/staging/orders.sql': `-- description: Typed orders.
-- owners: data@example.com
-- tags: domain=sales
-- check: not_null(order_id)
-- check: unique(order_id)
select order_id, business_date, total from raw.orders
`,
  'defs/marts/daily_revenue.sql': `-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)
-- partition_column: business_date
select business_date, sum(total) as revenue
from staging.orders
where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
group by business_date
`,
  'defs/marts/order_count.sql': `-- description: Never built in this test.
select count(*) as n from staging.orders
`,
};

let workspace: TempWorkspace;
let project: Project;
let server: LoopbackServer;
let base: string;
let runId: string;
const bodies: string[] = [];

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

beforeAll(async () => {
  workspace = await openTempWorkspace('strata-ui-api-', { name: 'ui-api-test' }, FILES);
  project = await loadProject(workspace.dir);
  const result = await workspace.run(project, ['raw/orders', 'staging/orders', 'marts/daily_revenue']);
  runId = result.runId;
  server = await listenOnLoopback(createApiApp({ project, storage: async () => workspace.storage }, { log: () => undefined }));
  base = server.base;
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('GET /api/assets', () => {
  it('lists every asset with its kinds, group, deps, state and stale count', async () => {
    const { status, body } = await get('/api/assets');
    expect(status).toBe(200);
    const byKey = new Map(body.assets.map((a: any) => [a.key, a]));
    expect([...byKey.keys()]).toEqual(['raw/orders', 'staging/orders', 'marts/daily_revenue', 'marts/order_count']);
    expect(byKey.get('staging/orders')).toMatchObject({
      kinds: ['sql', 'duckdb'],
      deps: ['raw/orders'],
      description: 'Typed orders.',
      partitioned: false,
      state: 'fresh',
      rowCount: 3,
      stale: 0,
      runId,
    });
    expect(byKey.get('staging/orders')).toMatchObject({ checks: { total: 2, failed: 0, warned: 0 } });
    expect(byKey.get('raw/orders')).toMatchObject({ group: 'raw' });
    expect(byKey.get('marts/daily_revenue')).toMatchObject({ partitioned: true, state: 'fresh', partitions: { total: 3, materialized: 3, missing: 0 } });
    expect(byKey.get('marts/order_count')).toMatchObject({ state: 'missing', stale: 1, lastMaterializedAt: null });
  });

  it('filters by a selection', async () => {
    const { status, body } = await get(`/api/assets?select=${encodeURIComponent('+staging/orders')}`);
    expect(status).toBe(200);
    expect(body.assets.map((a: any) => a.key)).toEqual(['raw/orders', 'staging/orders']);
  });

  it('answers a bad selection with 400, the parameter and "did you mean"', async () => {
    const { status, body } = await get('/api/assets?select=staging/ordrs');
    expect(status).toBe(400);
    expect(body.error.code).toBe('selection_invalid');
    expect(body.error.parameter).toBe('select');
    expect(body.error.message).toContain('did you mean "staging/orders"');
    expect(body.error.suggestions).toContain('staging/orders');
  });

  it('rejects unknown and repeated query parameters, naming them', async () => {
    const unknown = await get('/api/assets?selct=x');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'usage', parameter: 'selct' });
    const twice = await get('/api/assets?select=raw/orders&select=staging/orders');
    expect(twice.status).toBe(400);
    expect(twice.body.error.parameter).toBe('select');
  });
});

describe('GET /api/assets/KEY', () => {
  it('describes a SQL asset: spec, project-relative file, SQL, latest materialization and checks', async () => {
    const { status, body } = await get('/api/assets/staging/orders');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      key: 'staging/orders',
      kinds: ['sql', 'duckdb'],
      compute: 'sql',
      deps: ['raw/orders'],
      dependents: ['marts/daily_revenue', 'marts/order_count'],
      tags: { domain: 'sales' },
      owners: ['data@example.com'],
      file: 'defs/staging/orders.sql',
      materialization: 'table',
      partitions: null,
      checks: [
        {
          name: 'not_null(order_id)',
          severity: 'error',
          outcome: 'passed',
          results: 1,
          failing: 0,
          latest: { partition: null, passed: true, runId },
          failingExample: null,
        },
        {
          name: 'unique(order_id)',
          severity: 'error',
          outcome: 'passed',
          results: 1,
          failing: 0,
          latest: { partition: null, passed: true, runId },
          failingExample: null,
        },
      ],
      state: { state: 'fresh' },
      stale: 0,
      latestMaterialization: { assetKey: 'staging/orders', runId, rowCount: 3 },
    });
    expect(body.sql).toContain('from raw.orders');
    expect(body).not.toHaveProperty('latestCheckResults');
  });

  it('gives partition text and counts for a partitioned asset; the key may be URL-encoded whole', async () => {
    const { status, body } = await get(`/api/assets/${encodeURIComponent('marts/daily_revenue')}`);
    expect(status).toBe(200);
    expect(body.partitions).toMatch(/^daily\(/);
    expect(body.partitionColumn).toBe('business_date');
    expect(body.state.partitions).toMatchObject({ total: 3, materialized: 3, missing: 0, failed: 0 });
  });

  it('answers an unknown asset with 404 and a suggestion', async () => {
    const { status, body } = await get('/api/assets/staging/ordres');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toContain('did you mean "staging/orders"');
  });
});

describe('GET /api/lineage/KEY', () => {
  it('gives upstream and downstream nodes with their depth, and the edges among them', async () => {
    const { status, body } = await get('/api/lineage/staging/orders');
    expect(status).toBe(200);
    expect(body.nodes).toEqual([
      { key: 'staging/orders', depth: 0, direction: 'self' },
      { key: 'raw/orders', depth: 1, direction: 'up' },
      { key: 'marts/daily_revenue', depth: 1, direction: 'down' },
      { key: 'marts/order_count', depth: 1, direction: 'down' },
    ]);
    expect(body.edges).toContainEqual({ upstream: 'raw/orders', downstream: 'staging/orders', via: 'data' });
    expect(body.edges).toHaveLength(3);
  });

  it('honours depth and direction', async () => {
    const { body } = await get('/api/lineage/marts/daily_revenue?direction=up&depth=1');
    expect(body.nodes.map((n: any) => n.key)).toEqual(['marts/daily_revenue', 'staging/orders']);
    const all = await get('/api/lineage/marts/daily_revenue?direction=up');
    expect(all.body.nodes.map((n: any) => [n.key, n.depth])).toEqual([
      ['marts/daily_revenue', 0],
      ['staging/orders', 1],
      ['raw/orders', 2],
    ]);
  });

  it('answers a bad depth or direction with 400 naming it, an unknown asset with 404', async () => {
    for (const depth of ['0', 'abc', '-1', '1.5']) {
      const { status, body } = await get(`/api/lineage/raw/orders?depth=${depth}`);
      expect(status, depth).toBe(400);
      expect(body.error.parameter).toBe('depth');
      expect(body.error.message).toContain('depth');
    }
    const direction = await get('/api/lineage/raw/orders?direction=sideways');
    expect(direction.status).toBe(400);
    expect(direction.body.error.parameter).toBe('direction');
    expect((await get('/api/lineage/raw/nope')).status).toBe(404);
  });
});

describe('GET /api/history/KEY and GET /api/partitions/KEY', () => {
  it("gives an asset's materializations and check results, newest first, with samples", async () => {
    const { status, body } = await get('/api/history/staging/orders');
    expect(status).toBe(200);
    expect(body.materializations).toEqual([expect.objectContaining({ assetKey: 'staging/orders', runId, rowCount: 3, partition: null })]);
    expect(body.runs).toEqual([expect.objectContaining({ runId, partitions: 1, firstPartition: null, rowCount: 3 })]);
    expect(body.checks.map((c: any) => [c.checkName, c.passed, c.violations]).sort()).toEqual([
      ['not_null(order_id)', true, 0],
      ['unique(order_id)', true, 0],
    ]);
    expect(body.checks[0]).toHaveProperty('sample');
    const daily = (await get('/api/history/marts/daily_revenue?limit=2')).body;
    expect(daily.materializations).toHaveLength(2);
    expect(daily.runs).toEqual([expect.objectContaining({ runId, partitions: 3, firstPartition: '2025-01-01', lastPartition: '2025-01-03' })]);
  });

  it('gives one cell per partition with its state and the missing ranges; none for an unpartitioned asset', async () => {
    const { status, body } = await get('/api/partitions/marts/daily_revenue');
    expect(status).toBe(200);
    expect(body.cells.map((c: any) => [c.partition, c.state])).toEqual([
      ['2025-01-01', 'fresh'],
      ['2025-01-02', 'fresh'],
      ['2025-01-03', 'fresh'],
    ]);
    expect(body.counts).toEqual({ fresh: 3, stale: 0, missing: 0, failed: 0 });
    expect(body.missingRanges).toEqual([]);
    expect((await get('/api/partitions/staging/orders')).body).toMatchObject({ partitions: null, cells: [] });
  });

  it('answers a bad limit with 400 and an unknown asset with 404', async () => {
    const bad = await get('/api/history/staging/orders?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.parameter).toBe('limit');
    expect((await get('/api/history/staging/nope')).status).toBe(404);
    expect((await get('/api/partitions/staging/nope')).status).toBe(404);
    expect((await get('/api/partitions/staging/orders?x=1')).status).toBe(400);
  });
});

describe('GET /api/runs', () => {
  it('lists runs and shows one with its events (a prefix of the id works)', async () => {
    const list = await get('/api/runs?limit=5&status=success');
    expect(list.status).toBe(200);
    expect(list.body.runs.map((r: any) => r.id)).toEqual([runId]);
    expect((await get('/api/runs?status=failed')).body.runs).toEqual([]);
    expect((await get('/api/runs?offset=1')).body.runs).toEqual([]);
    const one = await get(`/api/runs/${runId.slice(0, 8)}`);
    expect(one.status).toBe(200);
    expect(one.body.run.id).toBe(runId);
    const types = one.body.events.map((e: any) => e.type);
    expect(types[0]).toBe('run_start');
    expect(types).toContain('materialization');
    expect(types.at(-1)).toBe('run_success');
  });

  it('answers bad paging and status with 400 naming the parameter', async () => {
    for (const [query, parameter] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=501', 'limit'],
      ['offset=-1', 'offset'],
      ['status=done', 'status'],
    ]) {
      const { status, body } = await get(`/api/runs?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.parameter, query).toBe(parameter);
      expect(body.error.message, query).toContain(`"${parameter}"`);
    }
  });

  it('answers an unknown run with 404 and a malformed id with 400', async () => {
    const unknown = await get('/api/runs/zzzzzzzz');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const bad = await get(`/api/runs/${encodeURIComponent('a b')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.parameter).toBe('id');
  });
});

describe('GET /api/backfills', () => {
  it('lists backfills (none yet) and validates paging', async () => {
    const { status, body } = await get('/api/backfills');
    expect(status).toBe(200);
    expect(body).toEqual({ backfills: [], limit: 50, offset: 0 });
    expect((await get('/api/backfills?limit=x')).status).toBe(400);
  });
});

describe('every response', () => {
  it('carries the security headers, on success and on errors alike', async () => {
    for (const path of ['/api/assets', '/api/assets/nope', '/api/runs?limit=0', '/nowhere']) {
      const { headers } = await get(path);
      expect(headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(headers.get('x-frame-options'), path).toBe('DENY');
      expect(headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(headers.get('content-security-policy'), path).toContain("default-src 'none'");
      expect(headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('answers unknown endpoints and other methods with a JSON 404, and never a stack trace', async () => {
    const { status, body } = await get('/nowhere');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
    const post = await fetch(`${base}/api/assets`, { method: 'POST', headers: { origin: base } });
    expect(post.status).toBe(404);
    // Without a same-origin header the mutation guard answers first.
    expect((await fetch(`${base}/api/assets`, { method: 'POST' })).status).toBe(403);
    const malformed = await get('/api/assets/%E0%A4%A');
    expect(malformed.status).toBe(400);
    expect(bodies.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('never contains an absolute path, even where storage holds one (a run error naming a file)', async () => {
    const at = Date.now();
    await workspace.storage.createRun({
      id: 'path-run',
      status: 'failed',
      trigger: 'manual',
      selection: 'raw/orders',
      assetKeys: ['raw/orders'],
      createdAt: at,
      startedAt: at,
      endedAt: at,
      error: `cannot read ${workspace.dir}/landing/orders.csv`,
      tags: {},
    });
    const { body } = await get('/api/runs/path-run');
    expect(body.run.error).toBe('cannot read landing/orders.csv');
    expect(bodies.length).toBeGreaterThan(20);
    for (const text of bodies) {
      expect(text).not.toContain(workspace.dir);
      expect(text).not.toMatch(/"\/(tmp|home|Users|var|private)\//);
    }
  });
});

describe('the Host header', () => {
  /** A GET with a chosen Host header (fetch does not let a caller set one). */
  function getWithHost(host: string): Promise<{ status: number; body: string }> {
    const url = new URL(`${base}/api/assets`);
    return new Promise((resolve, reject) => {
      const request = http.get({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
    });
  }

  it('answers requests addressed to this machine, and refuses any other name (DNS rebinding)', async () => {
    expect((await getWithHost(`127.0.0.1:${new URL(base).port}`)).status).toBe(200);
    expect((await getWithHost(`localhost:${new URL(base).port}`)).status).toBe(200);
    expect((await getWithHost(`[::1]:${new URL(base).port}`)).status).toBe(200);
    const refused = await getWithHost('evil.example:80');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'host_not_allowed', message: expect.stringContaining('evil.example') } });
    // Names that merely start like a loopback address resolve wherever their owner wants.
    for (const host of [
      '127.0.0.1.evil.example',
      '127.0.0.1.evil.example:80',
      '127.evil.example',
      'localhost.evil.example',
      '127.0.0.1:80@evil.example',
      '[::1].evil.example',
      '0x7f.1',
      'localhost.',
    ]) {
      expect((await getWithHost(host)).status, host).toBe(403);
    }
  });
});

describe('unexpected errors and the server', () => {
  it('answers a storage failure with a 500 that hides the error', async () => {
    const logged: unknown[] = [];
    const app = createApiApp({ project, storage: async () => Promise.reject(new Error(`disk on fire at ${workspace.dir}`)) }, { log: (e) => logged.push(e) });
    const broken = await listenOnLoopback(app);
    try {
      const response = await fetch(`${broken.base}/api/runs`);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text).error.code).toBe('internal');
      expect(text).not.toContain('disk on fire');
      expect(logged).toHaveLength(1);
    } finally {
      await broken.close();
    }
  });

  it('startApiServer binds to 127.0.0.1 by default, reports a busy port, and closes', async () => {
    const first = await startApiServer({ project, storage: async () => workspace.storage }, { port: 0 });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${first.url}/api/backfills`)).status).toBe(200);
    await expect(startApiServer({ project, storage: async () => workspace.storage }, { port: first.port })).rejects.toThrow(/in use/);
    await first.close();
    await expect(fetch(`${first.url}/api/backfills`)).rejects.toThrow();
  });

  it('--port accepts 0-65535 only', () => {
    expect(parsePort(undefined)).toBe(3000);
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8080')).toBe(8080);
    for (const bad of ['65536', '-1', 'abc', '', '80.5']) expect(() => parsePort(bad), bad).toThrow(UsageError);
  });
});

describe('GET /api/partitions/KEY after upstream data changed and a partition failed', () => {
  it('marks the failed partition failed and the others stale', async () => {
    const storage = workspace.storage;
    const later = Date.now();
    await storage.createRun({
      id: 'later-run',
      status: 'failed',
      trigger: 'manual',
      selection: 'marts/daily_revenue',
      assetKeys: ['marts/daily_revenue'],
      createdAt: later,
      startedAt: later,
      endedAt: later,
      error: 'boom',
      tags: {},
    });
    await storage.commitStep({
      events: [
        {
          runId: 'later-run',
          timestamp: later,
          type: 'step_failure',
          level: 'error',
          assetKey: 'marts/daily_revenue',
          partition: '2025-01-02',
          message: 'boom',
          data: null,
        },
      ],
    });
    // New data in staging/orders: every partition of the mart that read it is now stale.
    await storage.commitStep({
      events: [],
      materializations: [
        {
          assetKey: 'staging/orders',
          partition: null,
          runId: 'later-run',
          timestamp: later,
          codeVersion: project.codeVersions.get('staging/orders') as string,
          dataVersion: 'changed',
          inputDataVersions: {},
          rowCount: 4,
          metadata: {},
          readSeq: await storage.currentSequence(),
          depsVersion: depsVersionOf(['raw/orders']),
        },
      ],
    });
    const { status, body } = await get('/api/partitions/marts/daily_revenue');
    expect(status).toBe(200);
    expect(body.cells.map((c: any) => [c.partition, c.state])).toEqual([
      ['2025-01-01', 'stale'],
      ['2025-01-02', 'failed'],
      ['2025-01-03', 'stale'],
    ]);
    expect(body.counts).toEqual({ fresh: 0, stale: 2, missing: 0, failed: 1 });
    expect((await get('/api/assets/marts/daily_revenue')).body.stale).toBe(3);
  });
});
