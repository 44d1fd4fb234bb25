/**
 * Freshness policies through the built `assets` CLI: `assets status` shows FRESHNESS (ok, overdue
 * and for how long, overdue with no data) only when a selected asset has a policy, and its JSON
 * carries the fields; a bad `-- freshness:` header is a definition error naming the asset and
 * file, exit 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox, stackFrames } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('fresh', {
    'strata.json': '{ "name": "fresh" }',
    'defs/marts/sales.sql': '-- freshness: 2h\nselect 1 as x\n',
    'defs/marts/late.sql': '-- freshness: 1ms\nselect 2 as y\n',
    'defs/marts/plain.sql': 'select 3 as z\n',
    'defs/later/never.sql': '-- freshness: 26h\nselect 4 as w\n',
  });
  const run = runCli(['materialize', '--select', 'marts/*', '--project', project]);
  expect(run.status, run.stderr).toBe(0);
});

afterAll(() => sandbox?.cleanup());

interface StatusRow {
  readonly key: string;
  readonly freshness?: { status: string; maxLagMs: number; lagMs: number | null; lastMaterializedAt: number | null; partition: string | null };
}

describe('assets status with freshness policies', () => {
  it('shows FRESHNESS: ok, overdue for how long, overdue with no data, - without a policy', () => {
    const result = runCli(['status', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/\bFRESHNESS\b/);
    const cell = (key: string) => {
      const line = lines.find((l) => l.startsWith(`${key} `)) ?? '';
      return line
        .slice((lines[0] as string).indexOf('FRESHNESS'))
        .trim()
        .split(/\s{2,}/)[0];
    };
    expect(cell('marts/sales')).toBe('ok');
    expect(cell('marts/late')).toMatch(/^overdue \d+(\.\d)?(ms|s|m)/);
    expect(cell('later/never')).toBe('overdue (no data)');
    expect(cell('marts/plain')).toBe('-');
    expect(result.stdout).toMatch(/; 2 overdue/);
  });

  it('prints the freshness fields in --json', () => {
    const rows = parseJson<StatusRow[]>(runCli(['status', '--json', '--project', project]));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('marts/sales')?.freshness).toMatchObject({ status: 'fresh', maxLagMs: 7_200_000, partition: null });
    expect(byKey.get('marts/sales')?.freshness?.lastMaterializedAt).toBeGreaterThan(0);
    expect(byKey.get('marts/late')?.freshness).toMatchObject({ status: 'overdue', maxLagMs: 1 });
    expect(byKey.get('later/never')?.freshness).toMatchObject({ status: 'overdue', lagMs: null, lastMaterializedAt: null });
    expect(byKey.get('marts/plain')?.freshness).toBeUndefined();
  });

  it('leaves the column out when no selected asset has a policy', () => {
    const result = runCli(['status', '--select', 'marts/plain', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('FRESHNESS');
    expect(result.stdout).not.toContain('overdue');
  });
});

describe('a bad freshness header', () => {
  it.each([
    ['26x', /"26x" is not a duration/],
    ['-2h', /"-2h" is not a duration/],
    ['0s', /maxLag must be more than 0/],
  ])('-- freshness: %s exits 2 naming the asset and file', (value, message) => {
    const bad = sandbox.writeProject(`bad-${value}`, {
      'strata.json': '{ "name": "bad" }',
      'defs/marts/sales.sql': `-- freshness: ${value}\nselect 1 as x\n`,
    });
    const result = runCli(['status', '--project', bad]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('marts/sales');
    expect(result.stderr).toContain('defs/marts/sales.sql');
    expect(stackFrames(result.stdout + result.stderr)).toEqual([]);
  });
});

describe('assets daemon --once with freshness policies', () => {
  it('raises freshness_miss once per episode, not again from a second daemon process', () => {
    const first = runCli(['daemon', '--once', '--project', project]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('freshness_miss: later/never is overdue: never materialized (freshness policy: 1d02h)');
    expect(first.stdout).toMatch(/freshness_miss: marts\/late is overdue: its newest data is \S+ old, more than 1ms; overdue since /);
    expect(first.stdout).not.toContain('marts/sales is overdue');
    const second = runCli(['daemon', '--once', '--json', '--project', project]);
    expect(second.status, second.stderr).toBe(0);
    expect(parseJson<{ tick: { freshnessMisses: unknown[] } }>(second).tick.freshnessMisses).toEqual([]);
  });
});
