/**
 * A backfill that failed because of bad data, resumed once the data is fixed, through the real
 * `assets` CLI on copies of the example: a day's payments file arrives with negative amounts,
 * the backfill loads it into raw/payments and staging's blocking check stops it. The day is
 * re-delivered clean; `assets status --stale` shows the raw partition's upstream changed, and
 * `assets backfill --resume` rebuilds it (its runs had committed it with the bad data) and ends
 * `success`, with the tables of a backfill that never saw the bad file. `--skip-committed`
 * keeps the old behaviour: the committed partition is left out and the resume fails again.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectFaults, parseFaultSpecs, restoreDays } from '../../assets/generator/index.ts';
import { parseJson, queryDuckDb, runCli, Sandbox, stateFiles, tableChecksums } from './cli-harness.ts';

const SELECT = '+marts/daily_revenue_by_location';
const BACKFILL = ['backfill', '--select', SELECT, '--from', '2025-01-01', '--to', '2025-01-03', '--json'];
const BAD_DAY = '2025-01-02';

interface BackfillJson {
  id: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  runIds: string[];
}

interface StaleJson {
  key: string;
  partition: string | null;
  reasons: { kind: string; upstream?: string }[];
}

interface Outcome {
  backfill: BackfillJson;
  run: { steps: { id: string; status: string }[] } | undefined;
}

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(3);
});

afterAll(() => sandbox?.cleanup());

/** A copy of the example whose backfill failed on the bad day, with that day re-delivered clean afterwards. */
async function failedThenRedelivered(name: string): Promise<{ dir: string; failed: BackfillJson }> {
  const dir = sandbox.copyExample(name);
  const landing = path.join(dir, 'landing');
  await injectFaults(landing, parseFaultSpecs(`${BAD_DAY}:negative_amounts`));
  const first = runCli([...BACKFILL, '--project', dir]);
  expect(first.status, first.stderr).toBe(1);
  const failed = parseJson<Outcome>(first).backfill;
  expect(failed.status).toBe('failed');
  await restoreDays(landing, [BAD_DAY]);
  return { dir, failed };
}

/** Payments of the bad day in staging, as the marts read them. */
async function paymentsOf(dir: string, day: string): Promise<Record<string, unknown>[]> {
  return queryDuckDb(
    stateFiles(dir).warehouse,
    `select count(*) as n, count(*) filter (where amount < 0) as negative, sum(amount)::double as total from staging.payments where business_date = DATE '${day}'`,
  );
}

describe('assets backfill --resume after the bad data was re-delivered fixed', () => {
  it('rebuilds the raw partition its runs committed with the bad data and ends success, with the tables of a clean backfill', async () => {
    const clean = sandbox.copyExample('clean');
    const reference = runCli([...BACKFILL, '--project', clean]);
    expect(reference.status, reference.stderr).toBe(0);
    const expected = parseJson<Outcome>(reference).backfill;

    const { dir, failed } = await failedThenRedelivered('redelivered');
    const stale = runCli(['status', '--stale', '--why', '--select', 'raw/payments', '--project', dir]);
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(new RegExp(`raw/payments@${BAD_DAY} +upstream landing/payments@${BAD_DAY} changed`));

    const resumed = runCli(['backfill', '--resume', failed.id.slice(0, 8), '--json', '--project', dir]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const outcome = parseJson<Outcome>(resumed);
    expect(outcome.backfill).toMatchObject({ id: failed.id, status: 'success', total: expected.total, done: expected.total, failed: 0 });
    // The raw partition loaded from the bad file, and what failed or was skipped. The other
    // partitions the failed run committed are fresh, or stale only through days after the range
    // (a day reads the next day's files), which a rebuild would not change: not written again.
    expect(outcome.run?.steps.map((s) => s.id)).toEqual([
      `raw/payments@${BAD_DAY}`,
      'staging/payments@2025-01-01..2025-01-03',
      'marts/daily_revenue_by_location@2025-01-01..2025-01-03',
    ]);
    expect(outcome.run?.steps.every((s) => s.status === 'success')).toBe(true);

    expect(await paymentsOf(dir, BAD_DAY)).toEqual(await paymentsOf(clean, BAD_DAY));
    expect((await paymentsOf(dir, BAD_DAY))[0]).toMatchObject({ negative: 0 });
    expect(await tableChecksums(stateFiles(dir).warehouse)).toEqual(await tableChecksums(stateFiles(clean).warehouse));
    // Nothing in the backfill's range is stale any more, but through partitions after it that were
    // never built (a day reads the next day's files): rebuilding those would change nothing.
    const after = parseJson<StaleJson[]>(runCli(['status', '--stale', '--json', '--select', SELECT, '--project', dir]));
    const inRange = after.filter((p) => p.partition === null || p.partition <= '2025-01-03');
    expect(inRange.flatMap((p) => p.reasons).filter((r) => r.kind !== 'upstream_stale')).toEqual([]);
    expect(inRange.map((p) => `${p.key}@${p.partition}`)).toEqual(expect.arrayContaining(['staging/orders@2025-01-03']));
  });

  it('with --skip-committed leaves out what its runs committed, so the stale raw partition is not rebuilt and the resume fails again', async () => {
    const { dir, failed } = await failedThenRedelivered('skip-committed');
    const resumed = runCli(['backfill', '--resume', failed.id.slice(0, 8), '--skip-committed', '--json', '--project', dir]);
    expect(resumed.status, resumed.stderr).toBe(1);
    const outcome = parseJson<Outcome>(resumed);
    expect(outcome.backfill).toMatchObject({ id: failed.id, status: 'failed' });
    expect(outcome.run?.steps.map((s) => s.id).filter((id) => id.startsWith('raw/'))).toEqual([]);
  });

  it('refuses --skip-committed without --resume', () => {
    const dir = sandbox.copyExample('skip-without-resume');
    const result = runCli([...BACKFILL, '--skip-committed', '--project', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--skip-committed goes with --resume');
  });
});
