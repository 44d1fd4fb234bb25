/**
 * `GET /api/schema/KEY` over real runs (DuckDB + SQLite): the columns and types of the latest
 * materialization and each run that changed them, newest first; 404 with "did you mean" for an
 * unknown asset, 400 for a query parameter it does not take.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { createApiApp } from '../../ui/api-app.ts';
import { listenOnLoopback, type LoopbackServer } from './loopback-server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;
let server: LoopbackServer;
const runIds: string[] = [];

async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.base}${url}`);
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  workspace = await openTempWorkspace('strata-ui-schema-', { name: 'ui-schema' }, { 'defs/marts/sales.sql': "select 1 as id, 'x' as code\n" });
  const versions = ["select 1 as id, 'x' as code\n", "select 1 as id, 'x' as code, 2.5::double as amount\n", 'select 1::bigint as id, 2.5::double as amount\n'];
  for (const sql of versions) {
    fs.writeFileSync(path.join(workspace.dir, 'defs/marts/sales.sql'), sql);
    const result = await workspace.run(await loadProject(workspace.dir));
    expect(result.status, result.error).toBe('success');
    runIds.push(result.runId);
  }
  const project = await loadProject(workspace.dir);
  server = await listenOnLoopback(createApiApp({ project, storage: async () => workspace.storage }, { log: () => undefined }));
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('GET /api/schema/KEY', () => {
  it('has the current columns and every change, newest first, with its run', async () => {
    const { status, body } = await get('/api/schema/marts/sales');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      key: 'marts/sales',
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'amount', type: 'DOUBLE' },
      ],
      runId: runIds[2],
    });
    expect(body.changes).toEqual([
      {
        runId: runIds[2],
        timestamp: expect.any(Number),
        added: [],
        removed: [{ name: 'code', type: 'VARCHAR' }],
        retyped: [{ name: 'id', from: 'INTEGER', to: 'BIGINT' }],
        message: 'schema changed: -code, id INTEGER → BIGINT',
      },
      {
        runId: runIds[1],
        timestamp: expect.any(Number),
        added: [{ name: 'amount', type: 'DOUBLE' }],
        removed: [],
        retyped: [],
        message: 'schema changed: +amount DOUBLE',
      },
    ]);
  });

  it('404 with "did you mean" for an unknown asset, 400 for a query parameter', async () => {
    const unknown = await get('/api/schema/marts/sale');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/did you mean "marts\/sales"/);
    expect((await get('/api/schema/marts/sales?limit=3')).status).toBe(400);
  });
});
