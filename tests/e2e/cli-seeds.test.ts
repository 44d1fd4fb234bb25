/**
 * Seeds through the `assets` CLI as a process: a seed upstream of a mart is listed (kind seed),
 * built with `materialize --select '+marts/x'`, shown fresh by `status`; an edit of its CSV makes
 * it and the mart stale (`status --stale --why`), one `--stale-only` run rebuilds both, and a
 * bad column type in strata.json exits 2 writing nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('seeded', {
    'strata.json': JSON.stringify({ name: 'seeded', seeds: { path: 'seeds', columnTypes: { payment_types: { fee_pct: 'DECIMAL(5, 2)' } } } }),
    'seeds/payment_types.csv': 'code,label,fee_pct\ncard,Card,1.40\ncash,Cash,0\n',
    'defs/raw/payments.sql': "select * from (values (1, 'card', 100.0), (2, 'cash', 20.0), (3, 'card', 50.0)) t(id, code, amount)\n",
    'defs/marts/x.sql':
      'select t.label, sum(p.amount) as amount, sum(p.amount * t.fee_pct / 100) as fees\nfrom raw.payments p join seeds.payment_types t using (code)\ngroup by t.label\n',
  });
});

afterAll(() => sandbox?.cleanup());

interface StaleRow {
  key: string;
  reasons: { kind: string }[];
}

function stale(): StaleRow[] {
  const result = runCli(['status', '--stale', '--json', '--project', project]);
  expect(result.status, result.stderr).toBe(0);
  return parseJson<StaleRow[]>(result);
}

describe('seeds in the CLI', () => {
  it('lists the seed with kind seed and as an upstream of the mart; kind:seed selects it', () => {
    const list = runCli(['list', '--json', '--project', project]);
    expect(list.status, list.stderr).toBe(0);
    const assets = parseJson<{ key: string; kinds: string[]; deps: string[] }[]>(list);
    expect(assets.find((a) => a.key === 'seeds/payment_types')?.kinds).toEqual(['seed', 'duckdb']);
    expect(assets.find((a) => a.key === 'marts/x')?.deps).toEqual(['raw/payments', 'seeds/payment_types']);
    const seeds = runCli(['list', '--select', 'kind:seed', '--project', project]);
    expect(seeds.stdout).toMatch(/seeds\/payment_types\s+seed, duckdb\s+seeds/);
    expect(seeds.stdout).toMatch(/1 of 3 assets/);
  });

  it("materialize --select '+marts/x' builds the seed with its types, then status shows everything fresh", async () => {
    const run = runCli(['materialize', '--select', '+marts/x', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/✓ seeds\/payment_types\s+2 rows/);
    const { warehouse } = stateFiles(project);
    expect(
      await queryDuckDb(warehouse, "select data_type from information_schema.columns where table_name = 'payment_types' and column_name = 'fee_pct'"),
    ).toEqual([{ data_type: 'DECIMAL(5,2)' }]);
    expect(await queryDuckDb(warehouse, 'select label, round(fees::double, 4) as fees from marts.x order by label')).toEqual([
      { label: 'Card', fees: 2.1 },
      { label: 'Cash', fees: 0 },
    ]);
    const status = runCli(['status', '--project', project]);
    expect(status.stdout).toMatch(/seeds\/payment_types\s+fresh/);
    expect(status.stdout).toMatch(/3 assets: 3 fresh, 0 stale/);
  });

  it('a touched seed stays fresh; an edited one makes it and the mart stale, and one --stale-only run rebuilds exactly those', async () => {
    const file = path.join(project, 'seeds', 'payment_types.csv');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    expect(stale()).toEqual([]);

    fs.writeFileSync(file, 'code,label,fee_pct\ncard,Card,2.00\ncash,Cash,0\n');
    expect(stale().map((row) => [row.key, row.reasons[0]?.kind])).toEqual([
      ['seeds/payment_types', 'code_changed'],
      ['marts/x', 'upstream_stale'],
    ]);
    const why = runCli(['status', '--stale', '--why', '--project', project]);
    expect(why.stdout).toMatch(/seeds\/payment_types\s+seed file or column types changed/);

    const rebuild = runCli(['materialize', '--select', '*', '--stale-only', '--project', project]);
    expect(rebuild.status, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/Materializing 2 assets/);
    expect(rebuild.stdout).not.toMatch(/raw\/payments/);
    expect(stale()).toEqual([]);
    expect(await queryDuckDb(stateFiles(project).warehouse, "select round(fees::double, 4) as fees from marts.x where label = 'Card'")).toEqual([{ fees: 3 }]);
  });

  it('a column type for a column the seed lacks exits 2 naming the seed, with no stack trace', () => {
    const broken = sandbox.writeProject('broken-seed', {
      'strata.json': JSON.stringify({ name: 'broken', seeds: { columnTypes: { payment_types: { fee: 'DOUBLE' } } } }),
      'seeds/payment_types.csv': 'code,label,fee_pct\ncard,Card,1.40\n',
      'defs/marts/x.sql': 'select * from seeds.payment_types\n',
    });
    const result = runCli(['materialize', '--select', '*', '--project', broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('seeds/payment_types in seeds/payment_types.csv: "seeds.columnTypes.payment_types" in strata.json types column "fee"');
    expect(stackFrames(result.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(broken).warehouse)).toBe(false);
  });
});
