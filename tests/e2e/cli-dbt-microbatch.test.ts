/**
 * A dbt microbatch model through the built CLI: `dbt ls` names its strategy, `materialize` builds
 * every daily batch from `begin`, `backfill --select <model> --from --to` (dbt's
 * `--event-time-start/--event-time-end`) replaces exactly those days after upstream changes,
 * `status` shows its partitions, and a bad microbatch config exits 2 naming the file and line.
 * Events are dated relative to today: the batches run up to the one in progress.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, queryDuckDb, runCli, Sandbox, stateFiles } from './cli-harness.ts';

const DAY_MS = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const day = (offset: number) => new Date(TODAY + offset * DAY_MS).toISOString().slice(0, 10);

/** `id,amount,day offset`: the events seed. */
const EVENTS: readonly (readonly [number, number, number])[] = [
  [1, 10, -3],
  [2, 20, -3],
  [3, 30, -2],
  [4, 40, -1],
];

const seed = (events: readonly (readonly [number, number, number])[]) =>
  `id,amount,occurred_at\n${events.map(([id, amount, offset]) => `${id},${amount},${day(offset)} 08:00:00`).join('\n')}\n`;

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: clicks\nconfig-version: 2\nmodels:\n  clicks:\n    +materialized: table\n',
  'seeds/raw_events.csv': seed(EVENTS),
  'models/staging/stg_events.sql': "{{ config(event_time='occurred_at') }}\nselect * from {{ ref('raw_events') }}\n",
  'models/marts/daily_events.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch',
    event_time='occurred_at', begin='${day(-3)}', batch_size='day') }}
select id, amount * 2 as doubled, occurred_at from {{ ref('stg_events') }}
`,
};

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('clicks', FILES);
});

afterAll(() => sandbox?.cleanup());

async function doubled(): Promise<string[]> {
  const rows = await queryDuckDb(stateFiles(project).warehouse, 'select id, doubled from marts.daily_events order by id');
  return rows.map((r) => `${String(r.id)}:${String(r.doubled)}`);
}

describe('a dbt microbatch model through the CLI', () => {
  it('dbt ls names the strategy; materialize builds every batch from begin; status shows the partitions', async () => {
    const ls = runCli(['dbt', 'ls', '--json', '--project', project]);
    expect(ls.status, ls.stderr).toBe(0);
    expect(parseJson<{ id: string; materialized: string }[]>(ls)).toContainEqual(
      expect.objectContaining({ id: 'model.clicks.daily_events', materialized: 'incremental (microbatch)' }),
    );
    const run = runCli(['materialize', '--select', '*', '--project', project]);
    expect(run.status, run.stderr).toBe(0);
    expect(await doubled()).toEqual(['1:20', '2:40', '3:60', '4:80']);
    const status = runCli(['status', '--select', 'daily_events', '--project', project]);
    expect(status.status, status.stderr).toBe(0);
    // Four batches: three days and today's, in progress.
    expect(status.stdout).toMatch(/marts\/daily_events\s.*\b4\/4\b/);
  });

  it('backfill --select <model> --from --to replaces exactly those batches after upstream changes', async () => {
    fs.writeFileSync(
      path.join(project, 'seeds/raw_events.csv'),
      seed([
        [1, 11, -3],
        [3, 33, -2],
        [5, 50, -2],
        [4, 44, -1],
      ]),
    );
    const upstream = runCli(['materialize', '--select', '+stg_events', '--project', project]);
    expect(upstream.status, upstream.stderr).toBe(0);
    const backfill = runCli(['backfill', '--select', 'daily_events', '--from', day(-3), '--to', day(-2), '--project', project]);
    expect(backfill.status, backfill.stderr).toBe(0);
    // Day -3 loses event 2, day -2 gains event 5; day -1 (not backfilled) keeps event 4's old amount.
    expect(await doubled()).toEqual(['1:22', '3:66', '4:80', '5:100']);
  });

  it('a microbatch model without begin is a definition error naming the file and line, exit 2', () => {
    const broken = sandbox.writeProject('broken', {
      ...FILES,
      'models/marts/daily_events.sql':
        "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='occurred_at', batch_size='day') }}\nselect 1\n",
    });
    const run = runCli(['materialize', '--select', '*', '--project', broken]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('models/marts/daily_events.sql:1');
    expect(run.stderr).toContain('a microbatch model needs begin');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
