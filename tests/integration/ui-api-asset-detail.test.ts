/**
 * `GET /api/assets/KEY` stays small on an asset with a long check history: a year of daily
 * partitions with two checks (730 latest results, each with its SQL and failing rows) is
 * summarized per check, and `GET /api/history/KEY` pages the full results with limit and offset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { createApiApp } from '../../ui/api-app.ts';
import type { CheckResultRecord } from '../../storage/storage.ts';
import { listenOnLoopback, type LoopbackServer } from './loopback-server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES = {
  'package.json': '{ "type": "module", "private": true }',
  'defs/raw/events.sql': `-- partitioned_by: daily(start=2024-01-01, end=2025-01-01)
-- partition_column: day
-- check: not_null(event_id)
-- check: unique(event_id) severity=warn
select 1 as event_id, {{ partition_start }}::date as day
`,
};
const CHECKS = ['not_null(event_id)', 'unique(event_id)'] as const;
const DAYS = Array.from({ length: 366 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
const T0 = Date.UTC(2025, 0, 2);

let workspace: TempWorkspace;
let project: Project;
let server: LoopbackServer;
let base: string;

async function get(path: string): Promise<{ status: number; bytes: number; body: any }> {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  return { status: response.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) };
}

/** The result of `check` on `day`: every 30th day fails not_null (error) and every 50th unique (warn). */
function result(check: (typeof CHECKS)[number], day: string, i: number): CheckResultRecord {
  const failed = check === CHECKS[0] ? i % 30 === 0 : i % 50 === 0;
  return {
    runId: 'year-run',
    assetKey: 'raw/events',
    partition: day,
    checkName: check,
    passed: !failed,
    severity: check === CHECKS[0] ? 'error' : 'warn',
    violations: failed ? 3 : 0,
    sample: failed
      ? [
          { event_id: null, day, note: 'x'.repeat(40) },
          { event_id: null, day, note: 'y'.repeat(40) },
        ]
      : [],
    sql: `select * from raw.events where day = date '${day}' and ${check === CHECKS[0] ? 'event_id is null' : 'event_id in (select event_id from raw.events group by all having count(*) > 1)'} -- ${'padding '.repeat(20)}`,
    durationMs: 2,
    timestamp: T0 + i * 1000 + (check === CHECKS[0] ? 0 : 500),
  };
}

beforeAll(async () => {
  workspace = await openTempWorkspace('strata-ui-detail-', { name: 'ui-detail-test' }, FILES);
  project = await loadProject(workspace.dir);
  await workspace.storage.createRun({
    id: 'year-run',
    status: 'success',
    trigger: 'manual',
    selection: 'raw/events',
    assetKeys: ['raw/events'],
    createdAt: T0,
    startedAt: T0,
    endedAt: T0 + 400_000,
    error: null,
    tags: {},
  });
  await workspace.storage.commitStep({ events: [], checkResults: CHECKS.flatMap((check) => DAYS.map((day, i) => result(check, day, i))) });
  server = await listenOnLoopback(createApiApp({ project, storage: async () => workspace.storage }, { log: () => undefined }));
  base = server.base;
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('GET /api/assets/KEY with 732 latest check results', () => {
  it('summarizes each check: outcome, counts over partitions, the latest result and one failing example', async () => {
    const { status, bytes, body } = await get('/api/assets/raw/events');
    expect(status).toBe(200);
    expect(bytes).toBeLessThan(16_000);
    expect(body).not.toHaveProperty('latestCheckResults');
    const [notNull, unique] = body.checks;
    expect(notNull).toMatchObject({
      name: 'not_null(event_id)',
      severity: 'error',
      outcome: 'failed',
      results: 366,
      failing: 13,
      violations: 39,
      lastRunAt: T0 + 365_000,
      latest: { partition: '2024-12-31', passed: true, violations: 0, runId: 'year-run', timestamp: T0 + 365_000 },
      failingExample: {
        partition: '2024-12-26',
        violations: 3,
        sample: [expect.objectContaining({ event_id: null }), expect.objectContaining({ event_id: null })],
      },
    });
    expect(notNull.failingExample.sql).toContain('event_id is null');
    expect(notNull.latest).not.toHaveProperty('sql');
    expect(notNull.latest).not.toHaveProperty('sample');
    expect(unique).toMatchObject({ name: 'unique(event_id)', severity: 'warn', outcome: 'warned', results: 366, failing: 8, violations: 24 });
  });

  it('reports a check without results as not run', async () => {
    const other = await openTempWorkspace('strata-ui-detail-empty-', { name: 'ui-detail-empty' }, FILES);
    try {
      const s = await listenOnLoopback(createApiApp({ project: await loadProject(other.dir), storage: async () => other.storage }, { log: () => undefined }));
      try {
        const response = await fetch(`${s.base}/api/assets/raw/events`);
        const body = (await response.json()) as any;
        expect(body.checks[0]).toMatchObject({
          name: 'not_null(event_id)',
          outcome: 'not run',
          results: 0,
          failing: 0,
          violations: 0,
          lastRunAt: null,
          latest: null,
          failingExample: null,
        });
      } finally {
        await s.close();
      }
    } finally {
      await other.close();
    }
  });
});

describe('GET /api/history/KEY pages with limit and offset', () => {
  it('gives check results newest first, a page at a time', async () => {
    const first = await get('/api/history/raw/events?limit=100');
    expect(first.body).toMatchObject({ limit: 100, offset: 0 });
    expect(first.body.checks).toHaveLength(100);
    const second = await get('/api/history/raw/events?limit=100&offset=100');
    expect(second.body).toMatchObject({ limit: 100, offset: 100 });
    expect(second.body.checks).toHaveLength(100);
    const timestamps = [...first.body.checks, ...second.body.checks].map((c: any) => c.timestamp);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => b - a));
    expect(new Set(timestamps).size).toBe(200);
    const last = await get('/api/history/raw/events?limit=100&offset=700');
    expect(last.body.checks).toHaveLength(32);
    const bad = await get('/api/history/raw/events?offset=-1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.parameter).toBe('offset');
  });
});
