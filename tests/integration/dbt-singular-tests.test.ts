/**
 * dbt singular tests (`tests/*.sql`, a query returning the failing rows) as checks on the models
 * and seeds they ref, run on real DuckDB and SQLite files: a failing `error` test blocks the
 * publish, a `warn` one only records its failure, a test reading two nodes checks each, and what
 * Strata cannot run is an error naming the test's file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const FILES: Record<string, string> = {
  'dbt/dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +materialized: table\n',
  'dbt/seeds/orders.csv': 'id,amount\n1,100\n2,250\n',
  'dbt/models/staging/stg_orders.sql': "select id, amount / 100.0 as dollars from {{ ref('orders') }}\n",
  'dbt/tests/assert_dollars_positive.sql': "-- No order has a negative amount.\nselect * from {{ ref('stg_orders') }} where dollars < 0;\n",
  'dbt/tests/assert_no_big_orders.sql': "{{ config(severity='warn') }}\nselect * from {{ ref('stg_orders') }} where dollars > {{ var('big', 1000) }}\n",
  'dbt/tests/seed_ids_positive.sql': "select * from {{ ref('orders') }} where id <= 0\n",
  'dbt/tests/every_order_staged.sql':
    "select r.id from {{ ref('orders') }} r left join {{ ref('stg_orders') }} s on s.id = r.id where s.id is null or s.dollars * 100 <> r.amount\n",
};

describe('dbt singular tests', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-dbt-singular-', { name: 'shop', dbt: 'dbt' }, FILES);
  });

  afterEach(() => workspace.close());

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, file), text);
  }

  it('become checks on the most downstream node they ref, blocking unless their severity is warn', async () => {
    const project = await loadProject(workspace.dir);
    const checksOf = (key: string) => (project.definitions.get(key)?.spec.checks ?? []).map((c) => `${c.name} ${c.severity} ${c.blocking}`).sort();
    expect(checksOf('staging/stg_orders')).toEqual(['assert_dollars_positive error true', 'assert_no_big_orders warn false', 'every_order_staged error true']);
    // every_order_staged reads the seed and the model built from it: a check on the model.
    expect(checksOf('seeds/orders')).toEqual(['seed_ids_positive error true']);
  });

  it('a failing error test stops the publish; a failing warn test is recorded and publishes', async () => {
    let project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    const results = async () => (await workspace.storage.latestCheckResults(['staging/stg_orders'])).map((c) => `${c.checkName} ${c.passed}`).sort();
    expect(await results()).toEqual(['assert_dollars_positive true', 'assert_no_big_orders true', 'every_order_staged true']);

    write('dbt/seeds/orders.csv', 'id,amount\n1,100\n2,250\n3,500000\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toContain('assert_no_big_orders false');
    expect(await workspace.warehouse.query('select count(*)::int as n from staging.stg_orders')).toEqual([{ n: 3 }]);

    write('dbt/seeds/orders.csv', 'id,amount\n1,100\n2,250\n3,-5\n4,7\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toContain('assert_dollars_positive false');
    // The failing test kept the new rows out of the published table.
    expect(await workspace.warehouse.query('select count(*)::int as n from staging.stg_orders')).toEqual([{ n: 3 }]);
  });

  it('warn_if and error_if of a generic test grade it by its number of failing rows, as dbt does', async () => {
    write(
      'dbt/models/schema.yml',
      "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: dollars\n        tests:\n          - not_null:\n              config:\n                warn_if: '>0'\n                error_if: '>1'\n",
    );
    write('dbt/seeds/orders.csv', 'id,amount\n1,100\n2,\n');
    let project = await loadProject(workspace.dir);
    const checks = (project.definitions.get('staging/stg_orders')?.spec.checks ?? []).map((c) => `${c.name} ${c.severity}`);
    expect(checks).toContain('not_null(dollars) error_if > 1 error');
    expect(checks).toContain('not_null(dollars) warn_if > 0 warn');
    const results = async () =>
      (await workspace.storage.latestCheckResults(['staging/stg_orders']))
        .filter((c) => c.checkName.startsWith('not_null'))
        .map((c) => `${c.checkName} ${c.passed}`)
        .sort();
    // One failing row: a warning, published.
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toEqual(['not_null(dollars) error_if > 1 true', 'not_null(dollars) warn_if > 0 false']);
    // Two: an error, which blocks the publish (and is no longer a mere warning).
    write('dbt/seeds/orders.csv', 'id,amount\n1,100\n2,\n3,\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toEqual(['not_null(dollars) error_if > 1 false', 'not_null(dollars) warn_if > 0 true']);
    write(
      'dbt/models/schema.yml',
      "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: dollars\n        tests:\n          - unique:\n              warn_if: 'lots'\n",
    );
    await expect(loadProject(workspace.dir)).rejects.toThrow(/warn_if must compare the number of failing rows with a number/);
  });

  it('a test that refs nothing built, a config Strata does not run and Jinja it cannot render are errors naming the file', async () => {
    write('dbt/tests/no_ref.sql', 'select 1 as x where false\n');
    write('dbt/tests/limited.sql', "{{ config(limit=10) }}\nselect * from {{ ref('stg_orders') }}\n");
    write('dbt/tests/broken.sql', "select *\nfrom {{ ref('stg_orders') }}\nwhere {{ nope() }}\n");
    write('dbt/tests/is_even.sql', '{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 = 1\n{% endtest %}\n');
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.file} ${e.message}`).sort()).toEqual([
      "dbt/tests/broken.sql:3 unsupported Jinja: nope() is not available in Strata's dbt context",
      'dbt/tests/is_even.sql a {% test %} block defines a generic test: put it in the macro folders or in tests/generic/',
      'dbt/tests/limited.sql test config "limit" is not supported yet',
      'dbt/tests/no_ref.sql a singular test must ref() a model or seed of the project: it becomes a check on what it refs',
    ]);
  });
});
