/**
 * A dbt project's own generic tests (`{% test %}` blocks of macros/ and tests/generic/, and
 * `test_<name>` macros) used in schema.yml, under columns and on whole models, as checks run on
 * real DuckDB and SQLite files: a failing `error` test blocks the publish, a `warn` one does not, a
 * user's `unique` replaces the builtin, and what Strata cannot run is an error naming test, model
 * and file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const SCHEMA = `version: 2
models:
  - name: stg_orders
    data_tests:
      - has_rows
      - unique:
          column_name: "id || '-' || status"
    columns:
      - name: cents
        data_tests:
          - is_positive
          - at_most: { limit_value: 50000 }
      - name: status
        tests:
          - accepted_values:
              values: [open, shipped]
              config: { severity: warn, name: status_known }
          - is_positive:
              config:
                where: "status = 'open'"
                alias: open_status_positive
                enabled: false
`;

const FILES: Record<string, string> = {
  'dbt/dbt_project.yml': 'name: shop\nmodels:\n  shop:\n    +materialized: table\n',
  'dbt/seeds/orders.csv': 'id,amount,status\n1,100,open\n2,250,shipped\n',
  'dbt/models/staging/stg_orders.sql': "select id, {{ cents('amount') }} as cents, status from {{ ref('orders') }}\n",
  'dbt/models/schema.yml': SCHEMA,
  // A macro and a test block in one file: the macro stays usable.
  'dbt/macros/checks.sql':
    '{% macro cents(column) %}{{ column }} * 100{% endmacro %}\n\n{% test is_positive(model, column_name) %}\nselect * from {{ model }}\nwhere {{ column_name }} <= 0\n{% endtest %}\n',
  'dbt/macros/legacy.sql': '{% macro test_has_rows(model) %}\nselect 1 as missing where not exists (select 1 from {{ model }})\n{% endmacro %}\n',
  'dbt/tests/generic/at_most.sql':
    "{% test at_most(model, column_name, limit_value=1000) %}\n{{ config(severity='warn') }}\nselect * from {{ model }} where {{ column_name }} > {{ limit_value }}\n{% endtest %}\n",
};

describe('dbt generic tests of the project', () => {
  let workspace: TempWorkspace;

  beforeEach(async () => {
    workspace = await openTempWorkspace('strata-dbt-generic-', { name: 'shop', dbt: 'dbt' }, FILES);
  });

  afterEach(() => workspace.close());

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace.dir, file), text);
  }

  const rows = async () => workspace.warehouse.query('select id, cents from staging.stg_orders order by id');
  const results = async () => (await workspace.storage.latestCheckResults(['staging/stg_orders'])).map((c) => `${c.checkName} ${c.passed}`).sort();

  it('become checks on their model: under a column, on the model, legacy test_ macros; config: sets severity and name', async () => {
    const project = await loadProject(workspace.dir);
    const checks = (project.definitions.get('staging/stg_orders')?.spec.checks ?? []).map((c) => `${c.name} ${c.type} ${c.severity} ${c.blocking}`);
    expect(checks.sort()).toEqual([
      'at_most(cents) custom_sql warn false',
      'has_rows custom_sql error true',
      'is_positive(cents) custom_sql error true',
      'status_known accepted_values warn false',
      "unique(id || '-' || status) custom_sql error true",
    ]);
    const sql = (name: string) => {
      const check = project.definitions.get('staging/stg_orders')?.spec.checks.find((c) => c.name === name);
      return check?.type === 'custom_sql' ? check.sql.trim() : undefined;
    };
    expect(sql('is_positive(cents)')).toBe('select * from {{ this }}\nwhere cents <= 0');
    expect(sql('at_most(cents)')).toBe('select * from {{ this }} where cents > 50000');
  });

  it('a failing error test keeps the new rows out of the table; a failing warn test publishes them', async () => {
    let project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toEqual([
      'at_most(cents) true',
      'has_rows true',
      'is_positive(cents) true',
      'status_known true',
      "unique(id || '-' || status) true",
    ]);

    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,250,shipped\n3,900,open\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toContain('at_most(cents) false');
    expect(await rows()).toHaveLength(3);

    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,-250,shipped\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toContain('is_positive(cents) false');
    expect(await rows()).toEqual([
      { id: 1, cents: 10000 },
      { id: 2, cents: 25000 },
      { id: 3, cents: 90000 },
    ]);
  });

  it("a project's own unique replaces the builtin; where and error_if under config: apply to it", async () => {
    write(
      'dbt/tests/generic/unique.sql',
      '{% test unique(model, column_name) %}\nselect lower({{ column_name }}) from {{ model }} group by 1 having count(*) > 1\n{% endtest %}\n',
    );
    write(
      'dbt/models/schema.yml',
      "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: status\n        data_tests:\n          - unique\n      - name: cents\n        data_tests:\n          - is_positive:\n              config: { where: \"status <> 'refund'\", error_if: '>1', warn_if: '>0' }\n",
    );
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,-250,shipped\n3,-4,refund\n');
    let project = await loadProject(workspace.dir);
    expect((project.definitions.get('staging/stg_orders')?.spec.checks ?? []).map((c) => `${c.name} ${c.type} ${c.severity}`).sort()).toEqual([
      'is_positive(cents) error_if > 1 custom_sql error',
      'is_positive(cents) warn_if > 0 custom_sql warn',
      'unique(status) custom_sql error',
    ]);
    // One failing row outside the refunds: a warning only.
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toEqual(['is_positive(cents) error_if > 1 true', 'is_positive(cents) warn_if > 0 false', 'unique(status) true']);
    // "OPEN" and "open" are distinct to the builtin, the same to the project's unique.
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,250,OPEN\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toContain('unique(status) false');
    expect(await rows()).toHaveLength(3);
  });

  it('tests on seeds, refs in arguments, and the same test twice on a column get stable names', async () => {
    write(
      'dbt/tests/generic/all_in.sql',
      '{% test all_in(model, column_name, to, field) %}\nselect * from {{ model }} where {{ column_name }} not in (select {{ field }} from {{ to }})\n{% endtest %}\n',
    );
    write(
      'dbt/models/schema.yml',
      "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: id\n        tests:\n          - all_in: { to: ref('orders'), field: id }\n          - all_in: { to: ref('orders'), field: amount }\nseeds:\n  - name: orders\n    data_tests:\n      - has_rows\n",
    );
    const project = await loadProject(workspace.dir);
    const checks = project.definitions.get('staging/stg_orders')?.spec.checks ?? [];
    expect(checks.map((c) => c.name)).toEqual(['all_in(id)', 'all_in(id) #2']);
    expect(checks[1]).toMatchObject({ sql: 'select * from {{ this }} where id not in (select amount from "seeds"."orders")' });
    expect((project.definitions.get('seeds/orders')?.spec.checks ?? []).map((c) => c.name)).toEqual(['has_rows']);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toEqual(['all_in(id) #2 false', 'all_in(id) true']);
  });

  it("data_tests: of dbt_project.yml configures singular and generic tests under their own config; <project>.<test> names the project's own test", async () => {
    write('dbt/dbt_project.yml', 'name: shop\nmodels:\n  shop:\n    +materialized: table\ndata_tests:\n  shop:\n    +severity: warn\n');
    write('dbt/tests/no_big_orders.sql', "select * from {{ ref('stg_orders') }} where cents > 1000000\n");
    // The definition's config(severity='error') is over the project's warn, the YAML's error over the project's warn.
    write(
      'dbt/tests/generic/small.sql',
      "{% test small(model, column_name) %}\n{{ config(severity='error') }}\nselect * from {{ model }} where {{ column_name }} > 10000000\n{% endtest %}\n",
    );
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: cents\n        data_tests: [shop.is_positive, not_null, small, { unique: { severity: error } }]\n',
    );
    const project = await loadProject(workspace.dir);
    expect((project.definitions.get('staging/stg_orders')?.spec.checks ?? []).map((c) => `${c.name} ${c.severity}`)).toEqual([
      'not_null(cents) warn',
      'unique(cents) error',
      'no_big_orders warn',
      'shop.is_positive(cents) warn',
      'small(cents) error',
    ]);
  });

  it("folder configs of data_tests: reach the generic tests of the YAML files in that folder, builtins and the project's own", async () => {
    write('dbt/dbt_project.yml', 'name: shop\nmodels:\n  shop:\n    +materialized: table\ndata_tests:\n  shop:\n    staging:\n      +severity: warn\n');
    fs.rmSync(path.join(workspace.dir, 'dbt/models/schema.yml'));
    const tests = 'columns:\n      - name: cents\n        data_tests: [is_positive, { accepted_values: { values: [10000, 25000], quote: false } }]\n';
    write('dbt/models/staging/schema.yml', `version: 2\nmodels:\n  - name: stg_orders\n    ${tests}`);
    write('dbt/models/marts/big_orders.sql', "select * from {{ ref('stg_orders') }}\n");
    write('dbt/models/marts/schema.yml', `version: 2\nmodels:\n  - name: big_orders\n    ${tests}`);
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,-250,shipped\n');
    const project = await loadProject(workspace.dir);
    const severities = (key: string) => (project.definitions.get(key)?.spec.checks ?? []).map((c) => `${c.name} ${c.severity}`).sort();
    expect(severities('staging/stg_orders')).toEqual(['accepted_values(cents, 10000, 25000) warn', 'is_positive(cents) warn']);
    expect(severities('marts/big_orders')).toEqual(['accepted_values(cents, 10000, 25000) error', 'is_positive(cents) error']);
    // The staging tests only warn, so stg_orders publishes; the same tests in marts/ block big_orders.
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toEqual(['accepted_values(cents, 10000, 25000) false', 'is_positive(cents) false']);
    expect(await rows()).toHaveLength(2);
    await expect(workspace.warehouse.query('select * from marts.big_orders')).rejects.toThrow();
  });

  it("a {% test %} block's config() is every use's default: over dbt_project.yml, under the use's own YAML config", async () => {
    write('dbt/dbt_project.yml', 'name: shop\nmodels:\n  shop:\n    +materialized: table\ndata_tests:\n  +severity: error\n  +enabled: false\n');
    write(
      'dbt/tests/generic/positive_open.sql',
      "{% test positive_open(model, column_name) %}\n{{ config(severity='warn', where=\"status = 'open'\", enabled=true, tags=['finance']) }}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n",
    );
    write(
      'dbt/tests/generic/few_negatives.sql',
      "{% test few_negatives(model, column_name) %}\n{{ config(warn_if='>0', error_if='>1') }}\nselect * from {{ model }} where {{ column_name }} < 0\n{% endtest %}\n",
    );
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: cents\n        data_tests:\n' +
        '          - positive_open\n' +
        '          - positive_open: { config: { where: "status = \'shipped\'", name: shipped_positive } }\n' +
        '          - positive_open: { config: { where: "status = \'refund\'", severity: error, name: refund_positive } }\n' +
        '          - few_negatives: { config: { enabled: true } }\n' +
        '          - not_null\n',
    );
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,-250,shipped\n3,-4,refund\n');
    let project = await loadProject(workspace.dir);
    const checks = project.definitions.get('staging/stg_orders')?.spec.checks ?? [];
    // not_null is off (the project's enabled: false); few_negatives is on by its YAML, positive_open by its block.
    expect(checks.map((c) => `${c.name} ${c.severity}`).sort()).toEqual([
      'few_negatives(cents) error_if > 1 error',
      'few_negatives(cents) warn_if > 0 warn',
      'positive_open(cents) warn',
      'refund_positive error',
      'shipped_positive warn',
    ]);
    const sql = checks.find((c) => c.name === 'positive_open(cents)');
    expect(sql?.type === 'custom_sql' ? sql.sql : '').toContain(`where status = 'open'`);
    // The refunds' negative amount blocks; the shipped one and two negatives only warn.
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toEqual([
      'few_negatives(cents) error_if > 1 false',
      'few_negatives(cents) warn_if > 0 true',
      'positive_open(cents) true',
      'refund_positive false',
      'shipped_positive false',
    ]);
    await expect(rows()).rejects.toThrow();
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,-250,shipped\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('success');
    expect(await results()).toEqual([
      'few_negatives(cents) error_if > 1 true',
      'few_negatives(cents) warn_if > 0 false',
      'positive_open(cents) true',
      'refund_positive true',
      'shipped_positive false',
    ]);
    expect(await rows()).toHaveLength(2);
  });

  it('a test the project file disables leaves an ephemeral model loadable; one its YAML enables is an error', async () => {
    write('dbt/dbt_project.yml', 'name: shop\nmodels:\n  shop:\n    +materialized: table\ndata_tests:\n  +enabled: false\n');
    write('dbt/models/staging/stg_orders.sql', "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('orders') }}\n");
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: amount\n        data_tests: [is_positive, not_null]\n',
    );
    expect((await loadProject(workspace.dir)).definitions.has('staging/stg_orders')).toBe(false);
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: amount\n        data_tests: [{ is_positive: { enabled: true } }]\n',
    );
    await expect(loadProject(workspace.dir)).rejects.toThrow(/an ephemeral model is not built, so it cannot be tested/);
  });

  it('a package generic test (dbt_packages/<package>/macros) runs under its namespace, with the package macros', async () => {
    write(
      'dbt/dbt_packages/dbt_utils/macros/generic_tests/expression_is_true.sql',
      '{% test expression_is_true(model, expression, column_name=None) %}\nselect * from {{ model }} where not ({{ dbt_utils_condition(column_name, expression) }})\n{% endtest %}\n',
    );
    write(
      'dbt/dbt_packages/dbt_utils/macros/condition.sql',
      '{% macro dbt_utils_condition(column_name, expression) %}{% if column_name %}{{ column_name }} {% endif %}{{ expression }}{% endmacro %}\n',
    );
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    data_tests:\n      - dbt_utils.expression_is_true: { expression: "cents < 1000000" }\n    columns:\n      - name: cents\n        data_tests:\n          - dbt_utils.expression_is_true: { expression: "> 0" }\n',
    );
    let project = await loadProject(workspace.dir);
    const checks = project.definitions.get('staging/stg_orders')?.spec.checks ?? [];
    expect(checks.map((c) => (c.type === 'custom_sql' ? `${c.name}: ${c.sql.trim()}` : c.name))).toEqual([
      'dbt_utils.expression_is_true: select * from {{ this }} where not (cents < 1000000)',
      'dbt_utils.expression_is_true(cents): select * from {{ this }} where not (cents > 0)',
    ]);
    write('dbt/seeds/orders.csv', 'id,amount,status\n1,100,open\n2,0,shipped\n');
    project = await loadProject(workspace.dir);
    expect((await workspace.run(project)).status).toBe('failed');
    expect(await results()).toEqual(['dbt_utils.expression_is_true true', 'dbt_utils.expression_is_true(cents) false']);
    write('dbt/models/schema.yml', 'version: 2\nmodels:\n  - name: stg_orders\n    data_tests: [dbt_utils.nope]\n');
    await expect(loadProject(workspace.dir)).rejects.toThrow(
      /staging\/stg_orders.*dbt\/models\/schema\.yml.*test "dbt_utils\.nope": package dbt_utils defines no generic test nope/,
    );
  });

  it('what cannot be run is an error naming the test, the model and the file', async () => {
    write('dbt/tests/generic/broken.sql', '{% test broken(model) %}\nselect *\nfrom {{ model }}\nwhere {{ nope() }}\n{% endtest %}\n');
    write('dbt/tests/not_generic.sql', '{% test odd(model) %}select 1{% endtest %}\n');
    write('dbt/tests/generic/named.sql', "{% test named(model) %}\n{{ config(name='fixed') }}\nselect 1 where false\n{% endtest %}\n");
    write(
      'dbt/models/schema.yml',
      'version: 2\nmodels:\n  - name: stg_orders\n    tests:\n      - broken\n      - named\n      - dbt_utils.expression_is_true: { expression: "cents > 0" }\n      - at_most\n    columns:\n      - name: cents\n        tests:\n          - at_most: { limit: 3 }\n          - at_most: { maximum: 3 }\n',
    );
    const error = await loadProject(workspace.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionErrors);
    expect((error as DefinitionErrors).errors.map((e) => `${e.context.assetKey ?? '-'} ${e.context.file} ${e.message}`).sort()).toEqual([
      '- dbt/tests/not_generic.sql a {% test %} block defines a generic test: put it in the macro folders or in tests/generic/',
      'staging/stg_orders dbt/models/schema.yml column cents: test at_most: "limit" is not supported yet',
      'staging/stg_orders dbt/models/schema.yml test "dbt_utils.expression_is_true" comes from package dbt_utils, whose macros are not installed in dbt_packages/dbt_utils/macros (run dbt deps)',
      'staging/stg_orders dbt/models/schema.yml test at_most(cents): generic test at_most has no argument "maximum" (its arguments: model, column_name, limit_value)',
      'staging/stg_orders dbt/models/schema.yml test at_most: generic test at_most needs a column: declare it under a column, or give column_name',
      "staging/stg_orders dbt/tests/generic/broken.sql:4 test broken: unsupported Jinja: nope() is not available in Strata's dbt context",
      'staging/stg_orders dbt/tests/generic/named.sql test named: config(name=…) in a test definition is not supported: name each use in the YAML',
    ]);
  });
});
