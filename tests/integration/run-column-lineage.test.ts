/**
 * Column lineage recorded by runs (DuckDB + SQLite): the first run of a definition version
 * records it, `select *` over a TypeScript asset expanded with the columns its materialization
 * recorded (schema history, not the warehouse); a version that has lineage is not traced again;
 * a failure to record is a warning in the run's log, never a failed run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { columnLineageVersion } from '../../core/model/lineage/column-lineage.ts';
import type { Storage } from '../../storage/storage.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES = {
  'package.json': '{ "type": "module" }\n',
  'defs/raw/orders.ts': `import { asset } from 'strata';
export const orders = asset({
  key: 'raw/orders',
  materialize: async (ctx) => { await ctx.warehouse.replaceTable("select i as id, i * 1.5 as amount from range(1, 4) t(i)"); },
});
`,
  'defs/staging/orders.sql': 'select *, amount * 2 as doubled from raw.orders\n',
};

describe('column lineage recorded by runs', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-run-column-lineage-', { name: 'run-column-lineage' }, FILES);
  });

  afterEach(() => workspace.close());

  it('records the lineage of the definition version once, with untraced columns from the schema history', async () => {
    const project = await loadProject(workspace.dir);
    const result = await workspace.run(project);
    expect(result.status, result.error).toBe('success');
    const recorded = await workspace.storage.columnLineage(columnLineageVersion(project));
    expect(recorded.map((l) => l.key)).toEqual(['raw/orders', 'staging/orders']);
    expect(recorded[0]?.columns?.map((c) => c.name)).toEqual(['id', 'amount']);
    expect(recorded[1]?.columns).toEqual([
      { name: 'id', sources: [{ asset: 'raw/orders', column: 'id', kind: 'identity' }] },
      { name: 'amount', sources: [{ asset: 'raw/orders', column: 'amount', kind: 'identity' }] },
      { name: 'doubled', sources: [{ asset: 'raw/orders', column: 'amount', kind: 'transformation' }] },
    ]);

    // A version with lineage is not traced again: what is stored stays.
    await workspace.storage.recordColumnLineage(columnLineageVersion(project), [{ key: 'staging/orders', columns: null, indirect: [], unknown: 'marker' }]);
    await workspace.run(project);
    const again = await workspace.storage.columnLineage(columnLineageVersion(project));
    expect(again.find((l) => l.key === 'staging/orders')?.unknown).toBe('marker');
  });

  it('an edited query (same graph, same definition version) is traced again by the next run', async () => {
    const before = await loadProject(workspace.dir);
    expect((await workspace.run(before)).status).toBe('success');
    writeFileSync(join(workspace.dir, 'defs/staging/orders.sql'), 'select id, amount * 3 as tripled from raw.orders\n');
    const after = await loadProject(workspace.dir);
    expect(after.definitionVersion).toBe(before.definitionVersion);
    expect((await workspace.run(after)).status).toBe('success');
    const recorded = await workspace.storage.columnLineage(columnLineageVersion(after));
    expect(recorded.find((l) => l.key === 'staging/orders')?.columns).toEqual([
      { name: 'id', sources: [{ asset: 'raw/orders', column: 'id', kind: 'identity' }] },
      { name: 'tripled', sources: [{ asset: 'raw/orders', column: 'amount', kind: 'transformation' }] },
    ]);
  });

  it('a failure to record is a warning in the log, and the run succeeds', async () => {
    const project = await loadProject(workspace.dir);
    const failing = new Proxy(workspace.storage, {
      get(target, name, receiver) {
        if (name === 'recordColumnLineage') return async () => Promise.reject(new Error('disk I/O error'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Storage;
    const result = await workspace.run(project, project.graph.keys, { storage: failing });
    expect(result.status, result.error).toBe('success');
    const warnings = (await workspace.storage.listEvents(result.runId)).filter((e) => e.level === 'warn');
    expect(warnings.map((e) => e.message)).toEqual(['column lineage not recorded: disk I/O error']);
  });
});
