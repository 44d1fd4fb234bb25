/**
 * `assets status` and `assets status --stale` read one staleness report, so they agree (issue
 * 11.2): after a logic edit of a partitioned SQL asset, plain status calls it stale with the
 * same count of code-changed partitions; after a failed upstream step, the downstream is stale,
 * not up to date.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editFile, parseJson, runCli, Sandbox } from './cli-harness.ts';

const DAYS = 'daily(start=2025-01-01, end=2025-01-07, timezone=UTC)';

const FILES: Record<string, string> = {
  'package.json': '{"type":"module"}\n',
  'strata.json': JSON.stringify({ name: 'status-agreement' }),
  'defs/raw/events.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    "select DATE '2025-01-01' + (i // 3)::INTEGER as day, i as id, i % 5 as amount",
    'from range(0, 18) t(i)',
    'where day >= {{ partition_start }} and day < {{ partition_end }}',
  ].join('\n'),
  'defs/staging/events.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    'select day, id, amount * 2 as amount2 from raw.events',
    'where day >= {{ partition_start }} and day < {{ partition_end }}',
  ].join('\n'),
  'defs/marts/daily.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    'select day, sum(amount2) as total from staging.events',
    'where day >= {{ partition_start }} and day < {{ partition_end }} group by day',
  ].join('\n'),
};

interface StatusRow {
  key: string;
  state: string;
  staleness: { partitions: number; byReason: Record<string, number> } | null;
}

interface StaleRow {
  key: string;
  partition: string | null;
  reasons: { kind: string }[];
}

let sandbox: Sandbox;
let dir: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  dir = sandbox.writeProject('agreement', FILES);
  const built = runCli(['materialize', '--select', '*', '--project', dir]);
  expect(built.status, built.stderr).toBe(0);
});

afterAll(() => sandbox?.cleanup());

/** Both views of the same state, checked against each other; returns plain status by key. */
function bothViews(): Map<string, StatusRow> {
  const plain = runCli(['status', '--json', '--project', dir]);
  const stale = runCli(['status', '--stale', '--json', '--project', dir]);
  expect(plain.status, plain.stderr).toBe(0);
  expect(stale.status, stale.stderr).toBe(0);
  const rows = parseJson<StatusRow[]>(plain);
  const staleRows = parseJson<StaleRow[]>(stale);
  for (const row of rows) {
    const mine = staleRows.filter((s) => s.key === row.key);
    expect(row.staleness?.partitions ?? 0, row.key).toBe(mine.length);
    expect(row.state === 'fresh', `${row.key} is ${row.state} with ${mine.length} stale partitions`).toBe(mine.length === 0);
    const byReason: Record<string, number> = {};
    for (const s of mine) byReason[s.reasons[0]?.kind as string] = (byReason[s.reasons[0]?.kind as string] ?? 0) + 1;
    if (row.staleness) expect(row.staleness.byReason, row.key).toEqual(byReason);
  }
  return new Map(rows.map((r) => [r.key, r]));
}

describe('status and status --stale agree', () => {
  it('everything built: every asset fresh in both', () => {
    const rows = bothViews();
    for (const key of ['raw/events', 'staging/events', 'marts/daily']) expect(rows.get(key)?.state, key).toBe('fresh');
    const text = runCli(['status', '--project', dir]);
    expect(text.stdout).toMatch(/3 assets: 3 fresh, 0 stale, 0 partial, 0 missing, 0 failed/);
  });

  it('a logic edit of a partitioned SQL asset: stale with 6 code changed in both views, downstream stale too', () => {
    editFile(path.join(dir, 'defs/staging/events.sql'), 'amount * 2', 'amount * 3');
    const rows = bothViews();
    expect(rows.get('staging/events')).toMatchObject({ state: 'stale', staleness: { partitions: 6, byReason: { code_changed: 6 } } });
    expect(rows.get('marts/daily')).toMatchObject({ state: 'stale', staleness: { partitions: 6, byReason: { upstream_stale: 6 } } });
    const text = runCli(['status', '--project', dir]);
    expect(text.stdout).toMatch(/staging\/events +stale +6\/6 +6 code changed/);
    expect(text.stdout).toMatch(/1 fresh, 2 stale/);
    const rebuilt = runCli(['materialize', '--select', '*', '--stale-only', '--project', dir]);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect([...bothViews().values()].every((r) => r.state === 'fresh')).toBe(true);
  });

  it('a failed upstream step: the upstream failed and its downstream stale in both views', () => {
    editFile(path.join(dir, 'defs/staging/events.sql'), 'amount * 3', "case when day = DATE '2025-01-03' then error('bad day') else amount * 3 end");
    const failed = runCli(['materialize', '--select', 'staging/events', '--partition', '2025-01-03', '--project', dir]);
    expect(failed.status).toBe(1);
    const rows = bothViews();
    expect(rows.get('staging/events')?.state).toBe('failed');
    // The partition that failed is stale (failed first); the others only for the code edit.
    expect(rows.get('staging/events')?.staleness?.byReason).toMatchObject({ failed: 1 });
    expect(rows.get('marts/daily')?.state).toBe('stale');
    expect(rows.get('marts/daily')?.staleness?.byReason).toMatchObject({ upstream_stale: 6 });
  });
});
