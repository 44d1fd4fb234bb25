/**
 * Staleness through the CLI on a copy of the example: `status --stale [--why]` and
 * `materialize --stale-only` after a landing file is re-delivered (stale downstream of it, and
 * only there), touched without a change (not stale), and once rebuilt (fresh again).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox, type CliResult } from './cli-harness.ts';

interface StaleRow {
  key: string;
  partition: string | null;
  reasons: { kind: string; upstream?: string }[];
}

const SELECT = '+marts/daily_revenue_by_location';
let sandbox: Sandbox;
let project: string;
let backfilled: CliResult;

beforeAll(async () => {
  sandbox = Sandbox.create();
  await sandbox.generateLanding(2);
  project = sandbox.copyExample('stale');
  backfilled = runCli(['backfill', '--select', SELECT, '--from', '2025-01-01', '--to', '2025-01-02', '--project', project]);
});

afterAll(() => sandbox?.cleanup());

/** Stale partitions of the selection on one day, as `status --stale --json` reports them. */
function staleOn(day: string): StaleRow[] {
  const result = runCli(['status', '--stale', '--select', SELECT, '--json', '--project', project]);
  expect(result.status, result.stderr).toBe(0);
  return parseJson<StaleRow[]>(result).filter((row) => row.partition === day || row.partition === null);
}

describe('staleness in the CLI', () => {
  it('after the backfill, the backfilled days are fresh and the rest of the year is missing', () => {
    expect(backfilled.status, backfilled.stderr).toBe(0);
    expect(staleOn('2025-01-01')).toEqual([]);
    const missing = staleOn('2025-01-03');
    expect(missing.map((r) => r.key)).toContain('raw/orders');
    expect(missing.every((r) => r.reasons[0]?.kind === 'missing')).toBe(true);
    const nothing = runCli(['materialize', '--select', SELECT, '--partition', '2025-01-01', '--stale-only', '--project', project]);
    expect(nothing.status, nothing.stderr).toBe(0);
    expect(nothing.stdout).toMatch(/Nothing to do: the 14 selected assets are fresh/);
  });

  it('a landing file touched without a change leaves everything fresh', () => {
    const file = path.join(project, 'landing', 'payments_2025-01-01.tsv');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    expect(staleOn('2025-01-01')).toEqual([]);
  });

  it('a re-delivered landing file makes exactly the partitions built from it stale, and --why says why', () => {
    const file = path.join(project, 'landing', 'orders_2025-01-01.csv');
    fs.appendFileSync(file, '\n');
    const stale = staleOn('2025-01-01');
    const byKey = new Map(stale.map((r) => [r.key, r]));
    expect(byKey.get('raw/orders')?.reasons).toEqual([expect.objectContaining({ kind: 'upstream_changed', upstream: 'landing/orders@2025-01-01' })]);
    expect(byKey.get('staging/orders')?.reasons[0]).toEqual({ kind: 'upstream_stale', upstream: 'raw/orders@2025-01-01' });
    expect(byKey.has('marts/daily_revenue_by_location')).toBe(true);
    // Assets that never read the orders file stay fresh.
    for (const key of ['raw/payments', 'raw/order_items', 'raw/locations', 'staging/locations', 'marts/dim_menu_items'])
      expect(byKey.has(key), key).toBe(false);
    // The next day reads the 2nd and the 3rd, which is not built: building the 3rd will change the
    // 2nd, so the 2nd is upstream-stale, naming the 3rd, and never because of the 1st's file.
    const nextDay = staleOn('2025-01-02');
    expect(nextDay.find((r) => r.key === 'staging/orders')?.reasons).toEqual([{ kind: 'upstream_stale', upstream: 'raw/orders@2025-01-03' }]);
    expect(nextDay.find((r) => r.key === 'raw/orders')).toBeUndefined();
    expect(nextDay.flatMap((r) => r.reasons).every((reason) => reason.kind === 'upstream_stale' && !reason.upstream?.endsWith('@2025-01-01'))).toBe(true);

    const why = runCli(['status', '--stale', '--why', '--select', SELECT, '--project', project]);
    expect(why.status, why.stderr).toBe(0);
    expect(why.stdout).toMatch(/raw\/orders@2025-01-01 +upstream landing\/orders@2025-01-01 changed \(/);
    expect(why.stdout).toMatch(/staging\/orders@2025-01-01 +upstream raw\/orders@2025-01-01 is stale/);
  });

  it('materialize --stale-only rebuilds only those partitions, after which they are fresh', () => {
    const run = runCli(['materialize', '--select', SELECT, '--partition', '2025-01-01', '--stale-only', '--json', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    const result = parseJson<{ status: string; steps: { id: string; status: string }[] }>(run);
    expect(result.status).toBe('success');
    const ids = result.steps.map((s) => s.id);
    expect(ids).toContain('raw/orders@2025-01-01');
    expect(ids).toContain('marts/daily_revenue_by_location@2025-01-01');
    expect(ids.some((id) => id.startsWith('raw/payments') || id.startsWith('staging/locations') || id.startsWith('raw/order_items'))).toBe(false);
    expect(staleOn('2025-01-01')).toEqual([]);
  });

  it('--why without --stale is a usage error', () => {
    const result = runCli(['status', '--why', '--project', project]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--why goes with --stale/);
  });
});
