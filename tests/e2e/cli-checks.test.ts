/**
 * Data-quality checks through the CLI on a copy of the example: a clean build passes every
 * check; a day re-delivered with bad data is stopped by a blocking check (the step fails,
 * nothing of that day is published, downstream is skipped, the failing rows are stored);
 * `assets checks`, `assets checks history` and `assets status` show it; a bad check in a SQL
 * header is a definition error.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectFaults, parseFaultSpecs } from '../../assets/generator/index.ts';
import { editFile, parseJson, querySqlite, queryDuckDb, runCli, Sandbox, stateFiles } from './cli-harness.ts';

const SELECT = '+marts/daily_revenue_by_location';
const RANGE = ['--from', '2025-01-01', '--to', '2025-01-03'];
let sandbox: Sandbox;
let project: string;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(3);
  project = sandbox.copyExample('checks');
});

afterAll(() => sandbox?.cleanup());

describe('checks in the CLI', () => {
  it('a clean build passes every check, and status shows them', () => {
    const built = runCli(['backfill', '--select', SELECT, ...RANGE, '--project', project]);
    expect(built.status, built.stderr).toBe(0);
    const status = parseJson<{ key: string; checks: { total: number; failed: number } | null }[]>(runCli(['status', '--json', '--project', project]));
    expect(status.find((s) => s.key === 'staging/payments')?.checks).toEqual({ total: 5, failed: 0, warned: 0, errored: 0 });
    const checks = runCli(['checks', '--select', 'staging/*', '--project', project]);
    expect(checks.status, checks.stderr).toBe(0);
    expect(checks.stdout).toMatch(/staging\/payments +accepted_range\(amount, min=0\) +error +passed +3 partitions/);
  });

  it('a re-delivered day with negative payments is stopped: nothing of it is published and downstream is skipped', async () => {
    const before = await queryDuckDb(
      stateFiles(project).warehouse,
      "select count(*) as n, sum(amount)::double as s from staging.payments where business_date = DATE '2025-01-02'",
    );
    await injectFaults(path.join(project, 'landing'), parseFaultSpecs('2025-01-02:negative_amounts'));
    // Within the landed days: a run over the whole year would also plan the days never delivered.
    const run = runCli(['backfill', '--select', SELECT, ...RANGE, '--stale-only', '--project', project]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /✗ staging\/payments@2025-01-0[12]\.\.2025-01-0[23] +blocking check failed, nothing published: accepted_range\(amount, min=0\): \d+ violations? in 2025-01-02/,
    );
    expect(run.stdout).toMatch(/- marts\/daily_revenue_by_location@.* (skipped|upstream staging\/payments@.* did not succeed)/);
    const after = await queryDuckDb(
      stateFiles(project).warehouse,
      "select count(*) as n, sum(amount)::double as s from staging.payments where business_date = DATE '2025-01-02'",
    );
    expect(after).toEqual(before);

    const stored = querySqlite<{ check_name: string; partition_key: string; passed: number; violations: number; sample: string }>(
      stateFiles(project).storage,
      "select check_name, partition_key, passed, violations, sample from latest_check_results where asset_key = 'staging/payments' and check_name = 'accepted_range(amount, min=0)' and passed = 0",
    );
    expect(stored.map((r) => r.partition_key)).toEqual(['2025-01-02']);
    const sample = JSON.parse(stored[0]?.sample ?? '[]') as { amount: number }[];
    expect(sample.length).toBeGreaterThan(0);
    expect(sample.every((row) => Number(row.amount) < 0)).toBe(true);

    const history = runCli(['checks', 'history', 'staging/payments', '--limit', '50', '--project', project]);
    expect(history.stdout).toMatch(/accepted_range\(amount, min=0\) +2025-01-02 +failed/);
    const status = parseJson<{ key: string; checks: { failed: number } | null }[]>(runCli(['status', '--json', '--project', project]));
    expect(status.find((s) => s.key === 'staging/payments')?.checks?.failed).toBe(1);
  });

  it('a check with a malformed column name is a definition error naming the asset and file', () => {
    const broken = sandbox.copyExample('bad-check', (dir) =>
      editFile(path.join(dir, 'defs/staging/payments.sql'), '-- check: unique(payment_id)', '-- check: unique(payment id)'),
    );
    const result = runCli(['list', '--project', broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/staging\/payments in defs\/staging\/payments\.sql: .*check unique\(payment id\): "payment id" is not a column name/);
  });

  it('a custom SQL check that does not parse, or an unknown check, is a definition error naming the asset, check and file', () => {
    const broken = sandbox.copyExample('bad-custom-check', (dir) => {
      editFile(path.join(dir, 'defs/staging/payments.sql'), 'custom_sql(payments_of_known_orders): select', 'custom_sql(payments_of_known_orders): selec');
      editFile(path.join(dir, 'defs/staging/orders.sql'), '-- check: unique(order_id)', '-- check: uniq(order_id)');
    });
    const result = runCli(['materialize', '--select', '+marts/*', '--project', broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/staging\/payments in defs\/staging\/payments\.sql: check payments_of_known_orders: SQL does not parse: Parser Error/);
    expect(result.stderr).toMatch(/staging\/orders in defs\/staging\/orders\.sql: check "uniq\(order_id\)": unknown check "uniq"/);
    expect(stackFreeOutput(result.stderr)).toBe(true);
  });

  it('a check naming a column its built table does not have is a definition error before anything is written', () => {
    const edited = sandbox.copyExample('missing-column');
    const built = runCli(['backfill', '--select', '+staging/payments', '--from', '2025-01-01', '--to', '2025-01-01', '--project', edited]);
    expect(built.status, built.stderr).toBe(0);
    editFile(path.join(edited, 'defs/staging/payments.sql'), '-- check: unique(payment_id)', '-- check: unique(payment_idd)');
    const runsBefore = querySqlite<{ n: number }>(stateFiles(edited).storage, 'select count(*) as n from runs')[0]?.n;
    const result = runCli(['materialize', '--select', 'staging/payments', '--project', edited]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /staging\/payments in defs\/staging\/payments\.sql: check unique\(payment_idd\): staging\/payments has no column "payment_idd" \(its columns: payment_id/,
    );
    expect(querySqlite<{ n: number }>(stateFiles(edited).storage, 'select count(*) as n from runs')[0]?.n).toBe(runsBefore);
  });
});

/** No stack trace frames in what the CLI printed. */
function stackFreeOutput(text: string): boolean {
  return !/\n\s+at .+:\d+:\d+/.test(text);
}
