/**
 * What `assets materialize`, `assets backfill` and `assets runs show` print about a failing
 * partitioned step and the steps skipped after it, on a small two-asset project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

/** Daily partitions; 2025-01-02 fails at run time (a cast), main/after reads main/days. */
const HEADER = '-- partitioned_by: daily(start=2025-01-01, end=2025-01-10)\n-- partition_column: day\n-- backfill_policy: single_run\n';

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('days', {
    'strata.json': '{ "name": "days" }',
    'defs/main/days.sql': `${HEADER}select d::date as day, cast(case when d = date '2025-01-02' then 'x' else '1' end as integer) as v
from range({{ partition_start }}::timestamp, {{ partition_end }}::timestamp, interval 1 day) t(d)\n`,
    'defs/main/after.sql': `${HEADER}select * from main.days where day >= {{ partition_start }} and day < {{ partition_end }}\n`,
  });
});

afterAll(() => sandbox?.cleanup());

describe('a failing step and what it skips', () => {
  it('materialize prints a skipped step once: its label, then why', () => {
    const result = runCli(['materialize', '--select', '*', '--partition', '2025-01-02', '--project', project]);
    expect(result.status).toBe(1);
    const skipped = result.stdout.split('\n').filter((line) => line.includes('main/after'));
    expect(skipped).toEqual(['  - main/after@2025-01-02 skipped: upstream main/days@2025-01-02 did not succeed']);
  });

  it('runs show tells the failure events of a range step apart by their partitions', () => {
    const backfill = runCli(['backfill', '--select', '*', '--from', '2025-01-01', '--to', '2025-01-03', '--project', project]);
    expect(backfill.status).toBe(1);
    const [run] = parseJson<{ id: string; trigger: string }[]>(runCli(['runs', '--json', '--limit', '1', '--project', project]));
    const shown = runCli(['runs', 'show', String(run?.id).slice(0, 8), '--project', project]);
    expect(shown.status).toBe(0);
    const failures = shown.stdout.split('\n').filter((line) => line.includes('step_failure'));
    expect(failures.map((line) => /step_failure\s+(\S+)/.exec(line)?.[1])).toEqual(['main/days@2025-01-01', 'main/days@2025-01-02', 'main/days@2025-01-03']);
    expect(shown.stdout).toMatch(/step_skipped\s+main\/after@2025-01-01\.\.2025-01-03\s/);
  });
});
