/**
 * Schema history through the CLI: a SQL asset materialized, its query changed to add, remove
 * and retype columns, materialized again. `assets status` shows the change (SCHEMA CHANGED, and
 * `schemaChange` in --json), `assets runs show` lists the schema_change event, and an
 * `assets checks` run of `schema(previous)` fails naming the columns; an unchanged asset shows none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

const FILES = {
  'strata.json': JSON.stringify({ name: 'schema-history' }),
  'defs/marts/sales.sql': "-- check: schema(previous) severity=warn\nselect 1 as id, 10.5::decimal(10,2) as amount, 'x' as legacy_code\n",
  'defs/marts/other.sql': 'select 1 as id\n',
};

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('schema-history', FILES);
  const first = runCli(['materialize', '--select', '*', '--project', project]);
  expect(first.status, first.stderr).toBe(0);
  fs.writeFileSync(
    path.join(project, 'defs/marts/sales.sql'),
    '-- check: schema(previous) severity=warn\nselect 1 as id, 10.5::double as amount, 0.1::double as discount_pct\n',
  );
  const second = runCli(['materialize', '--select', '*', '--project', project]);
  expect(second.status, second.stderr).toBe(0);
  // The run's output says so too.
  expect(second.stdout).toContain('~ marts/sales: schema changed: +discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE');
});

afterAll(() => sandbox?.cleanup());

describe('schema history in the CLI', () => {
  it('assets status shows which columns the latest materialization changed', () => {
    const status = runCli(['status', '--project', project]);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain('SCHEMA CHANGED');
    expect(status.stdout).toMatch(/marts\/sales .*\+discount_pct, -legacy_code, ~amount/);
    expect(status.stdout).not.toMatch(/marts\/other .*[+~]/);

    const json = parseJson<{ key: string; schemaChange?: unknown }[]>(runCli(['status', '--json', '--project', project]));
    expect(json.find((s) => s.key === 'marts/sales')?.schemaChange).toEqual({
      added: [{ name: 'discount_pct', type: 'DOUBLE' }],
      removed: [{ name: 'legacy_code', type: 'VARCHAR' }],
      retyped: [{ name: 'amount', from: 'DECIMAL(10,2)', to: 'DOUBLE' }],
    });
    expect(json.find((s) => s.key === 'marts/other')).not.toHaveProperty('schemaChange');
  });

  it('the run log has the schema_change event, and assets checks fails schema(previous) on the removed and retyped columns', () => {
    const runs = parseJson<{ id: string }[]>(runCli(['runs', '--json', '--project', project]));
    const shown = runCli(['runs', 'show', runs[0]?.id ?? '', '--project', project]);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('schema changed: +discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE');

    // Run on their own, the checks compare the table with the materialization before the latest.
    const checks = runCli(['checks', '--select', 'marts/sales', '--json', '--project', project]);
    const [result] = parseJson<{ checkName: string; passed: boolean; violations: number; sample: unknown[] }[]>(checks);
    expect(result).toMatchObject({
      checkName: 'schema(previous)',
      passed: false,
      violations: 2,
      sample: [
        { column: 'legacy_code', change: 'removed', from: 'VARCHAR', to: null },
        { column: 'amount', change: 'retyped', from: 'DECIMAL(10,2)', to: 'DOUBLE' },
      ],
    });
  });
});
