/**
 * `GET /api/column-lineage/KEY[?column=COL]` on a small materialized project: the asset's
 * columns with their types from the warehouse and their upstream columns, one column's path
 * across assets, 404 with "did you mean" for a column the asset does not have, 400 for a bad
 * parameter, and the lineage recorded for the definition version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import type { Project } from '../../core/model/project.ts';
import { columnLineageVersion } from '../../core/model/lineage/column-lineage.ts';
import { createApiApp } from '../../ui/api-app.ts';
import { listenOnLoopback, type LoopbackServer } from './loopback-server.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES = {
  'defs/raw/orders.sql': 'select 1 as id, 2.5::double as amount, 7 as customer_id\n',
  'defs/marts/totals.sql': 'select customer_id, sum(amount) as total from raw.orders where id > 0 group by customer_id\n',
};

let workspace: TempWorkspace;
let project: Project;
let server: LoopbackServer;

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.base}${path}`);
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  workspace = await openTempWorkspace('strata-ui-column-lineage-', { name: 'ui-column-lineage' }, FILES);
  project = await loadProject(workspace.dir);
  expect((await workspace.run(project)).status).toBe('success');
  // The API reads the warehouse file itself, read-only: this process lets go of it first.
  workspace.warehouse.close();
  server = await listenOnLoopback(createApiApp({ project, storage: async () => workspace.storage }, { log: () => undefined }));
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('GET /api/column-lineage/KEY', () => {
  it('lists the columns with their types and upstream columns, and the indirect uses', async () => {
    const { status, body } = await get('/api/column-lineage/marts/totals');
    expect(status).toBe(200);
    expect(body).toEqual({
      key: 'marts/totals',
      columns: [
        { name: 'customer_id', type: 'INTEGER', sources: [{ asset: 'raw/orders', column: 'customer_id', kind: 'identity' }] },
        { name: 'total', type: 'DOUBLE', sources: [{ asset: 'raw/orders', column: 'amount', kind: 'aggregation' }] },
      ],
      indirect: [
        { asset: 'raw/orders', column: 'customer_id', kind: 'group_by' },
        { asset: 'raw/orders', column: 'id', kind: 'filter' },
      ],
    });
    expect((await workspace.storage.columnLineage(columnLineageVersion(project))).map((l) => l.key)).toEqual(['marts/totals', 'raw/orders']);
  });

  it('gives one column its path across assets', async () => {
    const { status, body } = await get('/api/column-lineage/raw/orders?column=amount');
    expect(status).toBe(200);
    expect(body.path).toEqual({
      column: 'amount',
      hops: [],
      unknown: [],
      downstream: [{ asset: 'marts/totals', column: 'total', kind: 'aggregation', depth: 1, of: 'raw/orders.amount' }],
      downstreamIndirect: [],
    });
  });

  it('404 with "did you mean" for an unknown column or asset, 400 for an unknown parameter', async () => {
    const column = await get('/api/column-lineage/marts/totals?column=totl');
    expect(column.status).toBe(404);
    expect(column.body.error.message).toBe('asset "marts/totals" has no column "totl" (did you mean "total"?)');
    expect((await get('/api/column-lineage/marts/total')).status).toBe(404);
    expect((await get('/api/column-lineage/marts/totals?col=x')).status).toBe(400);
  });
});
