/**
 * Alerts from three `assets worker` processes on Postgres storage (the test cluster): a queued
 * backfill whose every daily partition fails is run by three workers at once, each adding its
 * failures to the same alert group; exactly one message is sent, by the last worker to exit,
 * with the count of every partition and their range, and one for the backfill's end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres, postgresMissing, postgresRows, postgresUrl } from '../postgres.ts';
import { runCli, Sandbox, startCli } from './cli-harness.ts';
import { startHttpReceiver, type HttpReceiver } from '../integration/alert-receivers.ts';

const missing = postgresMissing();

describe.skipIf(missing !== undefined)(`alerts from several workers on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const schema = `cli_alert_workers_${process.pid}`;
  let sandbox: Sandbox;
  let http: HttpReceiver;
  const url = (): string => {
    const u = new URL(postgresUrl());
    u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  };

  beforeAll(async () => {
    sandbox = Sandbox.create();
    await onPostgres(`drop schema if exists ${schema} cascade`, `create schema ${schema}`);
  });
  afterAll(async () => {
    await onPostgres(`drop schema if exists ${schema} cascade`);
    sandbox?.cleanup();
  });
  afterEach(() => http?.close());

  it('three workers running a failing queued backfill send one summary', async () => {
    http = await startHttpReceiver();
    const project = sandbox.writeProject('alert-workers', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({
        name: 'alert-workers',
        storage: 'env:STRATA_E2E_STORAGE',
        alerts: [{ on: ['run_failure', 'backfill_done'], select: 'marts/*', webhook: `${http.base}/hook`, window: '10m' }],
      }),
      'defs/marts/daily.sql': [
        '-- partitioned_by: daily(start=2025-01-01, end=2025-01-31)',
        '-- partition_column: day',
        "select {{ partition_start }}::date as day, error('no exchange rate for ' || {{ partition_start }}::VARCHAR) as rate",
      ].join('\n'),
    });
    const env = { STRATA_E2E_STORAGE: url() };
    const queued = runCli(
      ['backfill', '--select', 'marts/daily', '--from', '2025-01-01', '--to', '2025-01-12', '--per-partition', '--queue', '--project', project],
      env,
    );
    expect(queued.status, queued.stderr).toBe(0);
    const workers = [0, 1, 2].map(() => startCli(['worker', '--once', '--project', project], { env }));
    const results = await Promise.all(workers.map((w) => w.done));
    for (const result of results) expect(result.stderr).not.toContain('not delivered');
    const failures = http.posts.filter((p) => p.body.kind === 'run_failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.body).toMatchObject({ asset: 'marts/daily', count: 12, partitions: { first: '2025-01-01', last: '2025-01-12' } });
    expect(http.posts.filter((p) => p.body.kind === 'backfill_done').map((p) => p.body.count)).toEqual([1]);
    expect(await postgresRows(`select kind, status, count::int as count from ${schema}.alert_deliveries order by kind`)).toEqual([
      { kind: 'backfill_done', status: 'delivered', count: 1 },
      { kind: 'run_failure', status: 'delivered', count: 12 },
    ]);
  });
});
