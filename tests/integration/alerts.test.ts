/**
 * Alerts end to end in-process, against real SQLite and DuckDB files and local receivers on
 * loopback: a webhook and Slack get the JSON and the message of a failing step, e-mail goes out
 * over SMTP, a backfill whose every partition fails sends one summary, a receiver answering 500
 * is retried, and a dead receiver never fails the run: the failure is stored and the API shows it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { AlertObserver, type AlertObserverOptions } from '../../core/engine/alerts/alert-observer.ts';
import { buildPlan } from '../../core/model/planning/plan.ts';
import type { Project } from '../../core/model/project.ts';
import { createApi } from '../../ui/api-app.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from './alert-receivers.ts';
import { listenOnLoopback, type LoopbackServer } from './loopback-server.ts';

const DAYS = 'daily(start=2025-01-01, end=2025-01-31)';

const FILES: Readonly<Record<string, string>> = {
  'package.json': '{"type":"module"}',
  // Every partition fails: no rates for any day.
  'defs/marts/daily.sql': [
    `-- partitioned_by: ${DAYS}`,
    '-- partition_column: day',
    "select {{ partition_start }}::date as day, error('no exchange rate for ' || {{ partition_start }}::VARCHAR) as rate",
  ].join('\n'),
  'defs/marts/orders.sql': ['-- check: accepted_range(amount, min=0)', 'select 1 as id, -5 as amount'].join('\n'),
  'defs/staging/ok.sql': 'select 1 as id',
};

let tw: TempWorkspace;
let http: HttpReceiver;
let smtp: SmtpReceiver | undefined;
let api: LoopbackServer | undefined;

beforeEach(async () => {
  http = await startHttpReceiver();
});

afterEach(async () => {
  await tw?.close();
  await http.close();
  await smtp?.close();
  await api?.close();
  smtp = undefined;
  api = undefined;
});

/** A temp project whose strata.json has `alerts`. */
async function projectWith(alerts: unknown[], extra: Record<string, unknown> = {}): Promise<Project> {
  tw = await openTempWorkspace('strata-alerts-', { name: 'alerts', alerts, ...extra }, FILES);
  return loadProject(tw.dir);
}

/** A run service over the temp workspace with one alert observer (fast retries unless given). */
function serviceWith(project: Project, options: Partial<AlertObserverOptions> = {}): { service: RunService; observer: AlertObserver; notices: string[] } {
  const notices: string[] = [];
  const observer = new AlertObserver({
    rules: project.alerts,
    graph: project.graph,
    storage: async () => tw.storage,
    notice: (m) => notices.push(m),
    uiUrl: 'http://strata.example:3000',
    env: { SLACK_URL: `${http.base}/slack`, SMTP_PASSWORD: 's3cret' },
    retry: { attempts: 3, firstDelayMs: 20 },
    ...options,
  });
  const service = new RunService({ project, storage: tw.storage, warehouse: tw.warehouse, observers: [observer] });
  return { service, observer, notices };
}

/** Materializes `keys` through the service. */
async function materialize(service: RunService, project: Project, keys: readonly string[]) {
  return service.materialize(
    {
      plan: buildPlan(project.graph, keys, { now: new Date('2025-02-01T00:00:00Z'), partitions: { from: '2025-01-03', to: '2025-01-03' } }),
      selection: keys.join(','),
    },
    new AbortController().signal,
  );
}

describe('alert targets', () => {
  it('POSTs the JSON summary to a webhook and a message with asset, partition, error and UI link to Slack', async () => {
    const project = await projectWith([{ on: ['run_failure'], select: 'marts/*', webhook: `${http.base}/hook`, slack: 'env:SLACK_URL' }]);
    const { service, observer } = serviceWith(project);
    const result = await materialize(service, project, ['marts/daily', 'staging/ok']);
    expect(result.status).toBe('failed');
    await observer.flush(5_000);
    const hook = http.posts.find((p) => p.path === '/hook');
    expect(hook?.body).toMatchObject({
      rule: 'alerts[0]',
      kind: 'run_failure',
      asset: 'marts/daily',
      count: 1,
      partitions: { first: '2025-01-03', last: '2025-01-03' },
      runId: result.runId,
      url: 'http://strata.example:3000/#/assets/marts/daily',
      summary: 'marts/daily failed (partition 2025-01-03)',
    });
    expect(String(hook?.body.error)).toContain('no exchange rate for 2025-01-03');
    const slack = http.posts.find((p) => p.path === '/slack');
    const text = String(slack?.body.text);
    expect(text).toContain('Asset: marts/daily');
    expect(text).toContain('Partition: 2025-01-03');
    expect(text).toContain('Error: ');
    expect(text).toContain('no exchange rate for 2025-01-03');
    expect(text).toContain('<http://strata.example:3000/#/assets/marts/daily|Open in Strata>');
    // staging/ok succeeded and is not selected: nothing else was sent.
    expect(http.posts).toHaveLength(2);
    expect((await tw.storage.listAlertDeliveries()).map((d) => d.status)).toEqual(['delivered']);
  });

  it('sends a failed error-severity check as check_failure by e-mail over SMTP, logging in with the password from the environment', async () => {
    smtp = await startSmtpReceiver();
    const project = await projectWith([
      {
        on: ['check_failure', 'check_warning'],
        email: { to: ['oncall@example.com'], from: 'strata@example.com', host: '127.0.0.1', port: smtp.port, user: 'alerts', passwordEnv: 'SMTP_PASSWORD' },
      },
    ]);
    const { service, observer } = serviceWith(project);
    await materialize(service, project, ['marts/orders']);
    await observer.flush(5_000);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail).toMatchObject({ from: 'strata@example.com', to: ['oncall@example.com'], user: 'alerts', password: 's3cret' });
    expect(mail?.raw).toContain('Subject: [Strata] marts/orders failed a check');
    expect(mail?.raw).toContain('Asset: marts/orders');
    expect(mail?.raw).toContain('accepted_range');
    expect(mail?.raw).toContain('http://strata.example:3000/#/assets/marts/orders');
  });
});

describe('deduplication', () => {
  it('sends one summary for a backfill whose every daily partition fails, with the count and the partition range', async () => {
    const project = await projectWith([{ on: ['run_failure', 'backfill_done'], webhook: `${http.base}/hook` }]);
    const { service, observer } = serviceWith(project);
    const outcome = await service.backfill(
      { request: { selection: 'marts/daily', keys: ['marts/daily'], from: '2025-01-01', to: '2025-01-30', mode: 'all', grouping: 'per_partition' } },
      { now: new Date('2025-02-01T00:00:00Z') },
      new AbortController().signal,
    );
    expect(outcome.backfill.failed).toBe(30);
    await observer.flush(5_000);
    const failures = http.posts.filter((p) => p.body.kind === 'run_failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.body).toMatchObject({ asset: 'marts/daily', count: 30, partitions: { first: '2025-01-01', last: '2025-01-30' } });
    expect(failures[0]?.body.summary).toBe('marts/daily failed 30 times (partitions 2025-01-01 … 2025-01-30)');
    const done = http.posts.filter((p) => p.body.kind === 'backfill_done');
    expect(done.map((p) => p.body.summary)).toEqual(['strata backfill ended (failed)']);
    expect(await tw.storage.listAlertDeliveries()).toHaveLength(2);
  });
});

describe('delivery', () => {
  it('retries a receiver that answers 500 until it accepts', async () => {
    await http.close();
    http = await startHttpReceiver([500, 503]);
    const project = await projectWith([{ on: ['run_failure'], webhook: `${http.base}/hook` }]);
    const { service, observer, notices } = serviceWith(project);
    await materialize(service, project, ['marts/daily']);
    await observer.flush(5_000);
    expect(http.posts.map((p) => p.status)).toEqual([500, 503, 200]);
    expect(await tw.storage.listAlertDeliveries()).toMatchObject([{ status: 'delivered', attempts: 3, lastError: null }]);
    expect(notices).toEqual([]);
  });

  it('never fails a run over a dead receiver: the failure is stored, told, and listed by GET /api/alerts', async () => {
    const dead = http.base;
    await http.close();
    http = await startHttpReceiver();
    const project = await projectWith([{ on: ['run_failure', 'check_failure'], webhook: `${dead}/hook` }]);
    const { service, observer, notices } = serviceWith(project);
    const result = await materialize(service, project, ['staging/ok', 'marts/daily']);
    expect(result.steps.find((s) => s.key === 'staging/ok')?.status).toBe('success');
    await observer.flush(5_000);
    const [stored] = await tw.storage.listAlertDeliveries();
    expect(stored).toMatchObject({ status: 'failed', attempts: 3, kind: 'run_failure', assetKey: 'marts/daily' });
    expect(stored?.lastError).toMatch(/webhook: POST to http:\/\/127\.0\.0\.1:\d+ failed: ECONNREFUSED/);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^alert alerts\[0\] not delivered \(marts\/daily failed \(partition 2025-01-03\)\) after 3 attempts/);
    const workspace = { project, storage: async () => tw.storage };
    const app = createApi(workspace as never, { notice: () => undefined, log: () => undefined });
    api = await listenOnLoopback(app.app);
    const body = (await (await fetch(`${api.base}/api/alerts`)).json()) as { rules: unknown[]; deliveries: Array<Record<string, unknown>> };
    expect(body.rules).toEqual([{ name: 'alerts[0]', on: ['run_failure', 'check_failure'], select: null, targets: ['webhook'] }]);
    expect(body.deliveries).toMatchObject([{ status: 'failed', assetKey: 'marts/daily', attempts: 3 }]);
    expect(String(body.deliveries[0]?.lastError)).toContain('ECONNREFUSED');
    await app.close();
  });
});
