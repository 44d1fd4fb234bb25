/**
 * A dbt project's own generic test, used in schema.yml, through the built CLI: `assets materialize`
 * runs it as a check on its model and `assets checks` lists and reruns it; when it fails, the
 * model's table keeps its previous rows and both commands exit 1 naming the check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, runCli, Sandbox, stateFiles, writeDuckDb } from './cli-harness.ts';

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: shop\nconfig-version: 2\nmodels:\n  shop:\n    +materialized: table\n',
  'seeds/orders.csv': 'id,amount\n1,100\n2,250\n',
  'models/staging/stg_orders.sql': "select id, amount from {{ ref('orders') }}\n",
  'models/schema.yml':
    'version: 2\nmodels:\n  - name: stg_orders\n    data_tests:\n      - at_least: { column_name: amount, minimum: 1, config: { severity: warn, name: amount_at_least_1 } }\n    columns:\n      - name: amount\n        data_tests: [is_positive]\n',
  'macros/is_positive.sql': '{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n',
  'models/sources.yml':
    'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: refunds\n        columns:\n          - name: amount\n            data_tests: [is_positive]\n',
  'models/staging/stg_refunds.sql': "select amount from {{ source('raw', 'refunds') }}\n",
  'tests/generic/at_least.sql':
    '{% test at_least(model, column_name, minimum) %}\nselect * from {{ model }} where {{ column_name }} < {{ minimum }}\n{% endtest %}\n',
};

let sandbox: Sandbox;
let project: string;

const load = (sql: string) => writeDuckDb(project, sql);

beforeAll(async () => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('shop', FILES);
  await load('create schema raw; create table raw.refunds (amount integer); insert into raw.refunds values (5)');
});

afterAll(() => sandbox?.cleanup());

interface CheckRow {
  assetKey: string;
  checkName: string;
  passed: boolean;
  severity: string;
}

describe('a dbt project generic test through the CLI', () => {
  it('materialize runs it as a check; checks lists it passing', () => {
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    const checks = runCli(['checks', '--select', 'staging/stg_orders', '--json', '--project', project]);
    expect(checks.status, checks.stderr).toBe(0);
    expect(parseJson<CheckRow[]>(checks).map((c) => `${c.checkName} ${c.severity} ${c.passed}`)).toEqual([
      'amount_at_least_1 warn true',
      'is_positive(amount) error true',
    ]);
  });

  it('a failing error test keeps the previous table and exits 1; checks reruns it on the table as it is', async () => {
    fs.writeFileSync(path.join(project, 'seeds/orders.csv'), 'id,amount\n1,100\n2,-250\n3,7\n');
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/is_positive\(amount\)/);
    expect(await queryDuckDb(stateFiles(project).warehouse, 'select id, amount from staging.stg_orders order by id')).toEqual([
      { id: 1, amount: 100 },
      { id: 2, amount: 250 },
    ]);
    // `assets checks` reads the table as it is: a row written by hand fails the check.
    await load('insert into staging.stg_orders values (9, 0)');
    const rerun = runCli(['checks', '--select', 'staging/stg_orders', '--project', project]);
    expect(rerun.status, rerun.stderr).toBe(1);
    expect(rerun.stdout).toMatch(/is_positive\(amount\)/);
  });

  it('a test on a dbt source is a check of the source asset: checks runs it on the table as it is', async () => {
    const passing = runCli(['checks', '--select', 'raw/refunds', '--json', '--project', project]);
    expect(passing.status, passing.stderr).toBe(0);
    expect(parseJson<CheckRow[]>(passing).map((c) => `${c.assetKey} ${c.checkName} ${c.passed}`)).toEqual(['raw/refunds is_positive(amount) true']);
    await load('insert into raw.refunds values (-1)');
    const failing = runCli(['checks', '--select', 'raw/refunds', '--project', project]);
    expect(failing.status, failing.stderr).toBe(1);
    expect(failing.stdout).toMatch(/raw\/refunds\s+is_positive\(amount\)\s+error\s+failed/);
    // The model reading the source is not built from the bad rows.
    const run = runCli(['materialize', '--select', 'staging/stg_refunds', '--project', project]);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toMatch(/source raw\/refunds failed blocking check is_positive\(amount\)/);
  });
});
