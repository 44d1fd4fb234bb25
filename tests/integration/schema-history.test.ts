/**
 * Schema history on real DuckDB and SQLite files: every materialization records its table's
 * columns and types; changing the SQL to add, remove and retype columns records a
 * `schema_change` event in the step's commit (warn, or info when only added), `assets status`
 * reads it from the latest materialization, and a `schema(previous)` check fails on removed or
 * retyped columns (a blocking one leaves the previous table in place). On a Postgres warehouse
 * the types come from its catalog, named as DuckDB names them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { computeStaleness } from '../../core/model/staleness/compute-staleness.ts';
import { readAssetStates } from '../../core/model/status/asset-states.ts';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { openWarehouse } from '../../resources/open-warehouse.ts';
import type { Warehouse } from '../../resources/warehouse.ts';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const V1 = "select 1 as id, 10.5::decimal(10,2) as amount, 'x' as legacy_code\n";
/** amount retyped, legacy_code removed, discount_pct added. */
const V2 = 'select 1 as id, 10.5::double as amount, 0.1::double as discount_pct\n';

describe('schema history', () => {
  let workspace: TempWorkspace;

  const write = (file: string, text: string) => fs.writeFileSync(path.join(workspace.dir, 'defs', file), text);
  const events = async (runId: string, type: string) => (await workspace.storage.listEvents(runId)).filter((e) => e.type === type);

  beforeEach(async () => {
    workspace = await openTempWorkspace(
      'strata-schema-history-',
      { name: 'schema-history' },
      {
        'defs/marts/sales.sql': `-- check: schema(previous) severity=warn\n${V1}`,
        'defs/marts/guarded.sql': `-- check: schema(previous)\n${V1}`,
      },
    );
  });

  afterEach(() => workspace.close());

  it('records the columns and types of every materialization, and a schema_change event only when they change', async () => {
    const first = await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    expect(first.status, first.steps.map((s) => s.error).join()).toBe('success');
    const [built] = await workspace.storage.materializationHistory('marts/sales');
    expect(built?.metadata.schema).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(10,2)' },
      { name: 'legacy_code', type: 'VARCHAR' },
    ]);
    expect(built?.metadata).not.toHaveProperty('schemaChange');
    expect(await events(first.runId, 'schema_change')).toEqual([]);
    // The same columns again: no event.
    const same = await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    expect(await events(same.runId, 'schema_change')).toEqual([]);

    write('marts/sales.sql', `-- check: schema(previous) severity=warn\n${V2}`);
    const project = await loadProject(workspace.dir);
    const changed = await workspace.run(project, ['marts/sales']);
    expect(changed.status, changed.steps.map((s) => s.error).join()).toBe('success');
    const [event] = await events(changed.runId, 'schema_change');
    expect(event).toMatchObject({
      level: 'warn',
      assetKey: 'marts/sales',
      message: 'schema changed: +discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE',
      data: {
        added: [{ name: 'discount_pct', type: 'DOUBLE' }],
        removed: [{ name: 'legacy_code', type: 'VARCHAR' }],
        retyped: [{ name: 'amount', from: 'DECIMAL(10,2)', to: 'DOUBLE' }],
      },
    });
    // In the same commit as the materialization: right after it in the log.
    const log = await workspace.storage.listEvents(changed.runId);
    expect(log[log.findIndex((e) => e.type === 'materialization') + 1]?.type).toBe('schema_change');

    // The warn-level schema(previous) check failed on the removed and retyped columns, not the added one.
    const [check] = await workspace.storage.latestCheckResults(['marts/sales']);
    expect(check).toMatchObject({ checkName: 'schema(previous)', passed: false, severity: 'warn', violations: 2 });
    expect(check?.sample).toEqual([
      { column: 'legacy_code', change: 'removed', from: 'VARCHAR', to: null },
      { column: 'amount', change: 'retyped', from: 'DECIMAL(10,2)', to: 'DOUBLE' },
    ]);

    // Status reads the change from the latest materialization.
    const report = await computeStaleness({ project, storage: workspace.storage });
    const [state] = await readAssetStates(project, workspace.storage, ['marts/sales'], report);
    expect(state?.schemaChange).toEqual(event?.data && { added: event.data.added, removed: event.data.removed, retyped: event.data.retyped });
  });

  it('only added columns: an info event, and schema(previous) passes', async () => {
    await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    write('marts/sales.sql', `-- check: schema(previous) severity=warn\n${V1.trim()}, current_date as loaded_on\n`);
    const run = await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    const [event] = await events(run.runId, 'schema_change');
    expect(event).toMatchObject({ level: 'info', message: 'schema changed: +loaded_on DATE' });
    const [check] = await workspace.storage.latestCheckResults(['marts/sales']);
    expect(check).toMatchObject({ passed: true, violations: 0 });
  });

  it('a blocking schema(previous) check stops a removed column: nothing published, no change recorded', async () => {
    await workspace.run(await loadProject(workspace.dir), ['marts/guarded']);
    write('marts/guarded.sql', `-- check: schema(previous)\n${V2}`);
    const run = await workspace.run(await loadProject(workspace.dir), ['marts/guarded']);
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.error).toMatch(/blocking check failed, nothing published: schema\(previous\): 2 violations \(column=legacy_code, change=removed/);
    expect(await events(run.runId, 'schema_change')).toEqual([]);
    expect([...(await workspace.warehouse.columns('marts/guarded')).keys()]).toEqual(['id', 'amount', 'legacy_code']);
  });

  it('schema(previous, allow_added=false) fails on an added column too; bad syntax names the asset and file', async () => {
    write('marts/sales.sql', `-- check: schema(previous, allow_added=false) severity=warn\n${V1}`);
    await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    write('marts/sales.sql', `-- check: schema(previous, allow_added=false) severity=warn\n${V1.trim()}, 1 as extra\n`);
    await workspace.run(await loadProject(workspace.dir), ['marts/sales']);
    const [check] = await workspace.storage.latestCheckResults(['marts/sales']);
    expect(check).toMatchObject({ checkName: 'schema(previous, allow_added=false)', passed: false, violations: 1 });

    write('marts/sales.sql', `-- check: schema(previous, allow_added=maybe)\n${V1}`);
    const error = await loadProject(workspace.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect(String((error as Error).message)).toMatch(/marts\/sales in defs\/marts\/sales\.sql: .*allow_added=maybe must be true or false/);
  });
});

const missing = postgresMissing();

describe.skipIf(missing !== undefined)(`schema history on a Postgres warehouse${missing ? ` (skipped: ${missing})` : ''}`, () => {
  /** A layer (schema) of this file's own in the shared test cluster. */
  const layer = `schema_history_${process.pid}`;
  let workspace: TempWorkspace;
  let warehouse: Warehouse;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-schema-history-pg-', { name: 'schema-history-pg' }, { [`defs/${layer}/sales.sql`]: V1 });
    warehouse = await openWarehouse(postgresUrl());
  });

  afterEach(async () => {
    warehouse.close();
    await onPostgres(`drop schema if exists ${layer} cascade`);
    await workspace.close();
  });

  it('records the columns with their types from the catalog, and the change', async () => {
    const first = await workspace.run(await loadProject(workspace.dir), undefined, { warehouse });
    expect(first.status, first.steps.map((s) => s.error).join()).toBe('success');
    const [built] = await workspace.storage.materializationHistory(`${layer}/sales`);
    expect(built?.metadata.schema).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'amount', type: 'DECIMAL(10,2)' },
      { name: 'legacy_code', type: 'VARCHAR' },
    ]);
    // V2 in words Postgres reads.
    fs.writeFileSync(
      path.join(workspace.dir, 'defs', layer, 'sales.sql'),
      'select 1 as id, 10.5::double precision as amount, 0.1::double precision as discount_pct\n',
    );
    const changed = await workspace.run(await loadProject(workspace.dir), undefined, { warehouse });
    expect(changed.status, changed.steps.map((s) => s.error).join()).toBe('success');
    const [event] = (await workspace.storage.listEvents(changed.runId)).filter((e) => e.type === 'schema_change');
    // As the Postgres warehouse names its types.
    expect(event?.message).toBe('schema changed: +discount_pct DOUBLE PRECISION, -legacy_code, amount DECIMAL(10,2) → DOUBLE PRECISION');
  });
});
