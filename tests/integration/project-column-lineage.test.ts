/**
 * Column lineage of a loaded project (engine): SQL assets traced in topological order so a
 * downstream `*` expands to the columns traced upstream, the warehouse's columns filling in
 * TypeScript assets, and the cache by SQL hash and upstream columns in `.strata/`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { projectColumnLineage } from '../../core/engine/lineage/project-column-lineage.ts';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { buildProject } from '../../core/model/project.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-column-lineage-'));
  const files: Record<string, string> = {
    'strata.json': JSON.stringify({ name: 'cl' }),
    'defs/staging/orders.sql': 'select id, amount * 2 as amount from raw.orders\n',
    'defs/marts/orders.sql': 'select * replace (amount + 1 as amount) from staging.orders\n',
    'defs/raw/orders.sql': 'select 1 as id, 2.5 as amount\n',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('projectColumnLineage', () => {
  it('expands a downstream * to the columns traced upstream, in topological order', async () => {
    const lineage = await projectColumnLineage(await loadProject(dir));
    expect([...lineage.keys()]).toEqual(['raw/orders', 'staging/orders', 'marts/orders']);
    expect(lineage.get('marts/orders')).toEqual({
      key: 'marts/orders',
      columns: [
        { name: 'id', sources: [{ asset: 'staging/orders', column: 'id', kind: 'identity' }] },
        { name: 'amount', sources: [{ asset: 'staging/orders', column: 'amount', kind: 'transformation' }] },
      ],
      indirect: [],
    });
    expect(lineage.get('raw/orders')?.columns).toEqual([
      { name: 'id', sources: [] },
      { name: 'amount', sources: [] },
    ]);
  });

  it('reads a cached trace by SQL hash and upstream columns instead of parsing again', async () => {
    const project = await loadProject(dir);
    await projectColumnLineage(project);
    const file = join(dir, '.strata', 'column-lineage.json');
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { key: string; columns: { name: string }[] | null }> };
    expect(Object.keys(cached.entries)).toHaveLength(3);
    // Tamper with one entry: a cache hit returns it as stored, so DuckDB was not asked.
    for (const entry of Object.values(cached.entries))
      if (entry.key === 'marts/orders' && entry.columns) entry.columns[0] = { ...entry.columns[0], name: 'from_cache' } as never;
    writeFileSync(file, JSON.stringify(cached));
    const again = await projectColumnLineage(project);
    expect(again.get('marts/orders')?.columns?.[0]?.name).toBe('from_cache');
    // Other columns known to the warehouse for the tables it reads are another cache key: traced again.
    const other = await projectColumnLineage(project, { warehouseColumns: async (key) => (key === 'marts/orders' ? ['id', 'amount'] : null) });
    expect(other.get('marts/orders')?.columns?.[0]?.name).toBe('id');
    // Traces with other inputs take turns (a run's OpenLineage events, then the run's own trace): neither evicts the other's entries.
    for (let turn = 0; turn < 3; turn++) {
      expect((await projectColumnLineage(project)).get('marts/orders')?.columns?.[0]?.name).toBe('from_cache');
      const tampered = JSON.parse(readFileSync(file, 'utf8')) as typeof cached;
      // The three traces of the first inputs, and marts/orders' of the second.
      expect(Object.keys(tampered.entries)).toHaveLength(4);
    }
  });

  it('fills in an asset it cannot trace with its warehouse columns, their sources unknown', async () => {
    writeFileSync(join(dir, 'defs/raw/orders.sql'), '-- source: pg\nselect 1 as id\n');
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'cl', resources: { pg: { type: 'postgres', url: 'postgres://127.0.0.1:1/x' } } }));
    const project = await loadProject(dir);
    const lineage = await projectColumnLineage(project, {
      cacheFile: false,
      warehouseColumns: async (key) => (key === 'raw/orders' ? ['id', 'amount'] : null),
    });
    expect(lineage.get('raw/orders')).toMatchObject({ columns: [{ name: 'id', sources: [], unknown: 'its query runs on Postgres' }, { name: 'amount' }] });
    expect(lineage.get('staging/orders')?.columns?.[1]).toEqual({
      name: 'amount',
      sources: [{ asset: 'raw/orders', column: 'amount', kind: 'transformation' }],
    });
  });

  it("takes a TypeScript asset's declared columns, and reports a declared source the upstream asset does not have", async () => {
    const loaded = await loadProject(dir);
    const declared = asset({
      key: 'marts/declared',
      deps: ['staging/orders'],
      columnLineage: { id: ['staging/orders.id'], cents: [{ from: 'staging/orders.amount_cents', kind: 'transformation' }] },
      materialize: () => undefined,
    });
    const project = buildProject(loaded.config, [...loaded.definitions.values(), declared]);
    const lineage = await projectColumnLineage(project, { cacheFile: false });
    expect(lineage.get('marts/declared')).toEqual({
      key: 'marts/declared',
      columns: [
        { name: 'id', sources: [{ asset: 'staging/orders', column: 'id', kind: 'identity' }] },
        {
          name: 'cents',
          sources: [{ asset: 'staging/orders', column: 'amount_cents', kind: 'transformation' }],
          unknown: 'declared from a column that does not exist: staging/orders has no column "amount_cents"',
        },
      ],
      indirect: [],
    });
  });
});
