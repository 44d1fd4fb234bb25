/**
 * Alerts through the built `assets` CLI: a bad alert rule in strata.json exits 2 when the
 * command starts, naming the rule (its index and `on`) and writing nothing; a failing run sends
 * its alert to a local webhook before the process exits (flushed at exit), and exits 1 as before;
 * the daemon's freshness miss reaches the webhook once, not again from the next daemon process.
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox, stackFrames, startCli, stateFiles } from './cli-harness.ts';
import { startHttpReceiver, type HttpReceiver } from '../integration/alert-receivers.ts';

let sandbox: Sandbox;
let http: HttpReceiver | undefined;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox?.cleanup());

afterEach(async () => {
  await http?.close();
  http = undefined;
});

const FAILING = {
  'package.json': '{"type":"module"}',
  'defs/marts/broken.sql': "select error('upstream feed is empty') as x\n",
  'defs/staging/ok.sql': 'select 1 as id\n',
};

/** A project whose strata.json has `alerts`. */
function projectWith(name: string, alerts: unknown[]): string {
  return sandbox.writeProject(name, { ...FAILING, 'strata.json': JSON.stringify({ name, alerts }) });
}

describe('bad alert rules exit 2 at command start', () => {
  it.each([
    [
      'an unknown event',
      [
        { on: ['run_failure'], webhook: 'https://example.com/h' },
        { on: ['run_failur'], webhook: 'https://example.com/h' },
      ],
      /alert rule alerts\[1\] \(on: run_failur\): on\.0: unknown event "run_failur"/,
    ],
    [
      'a URL that is not http(s)',
      [{ on: ['check_failure', 'run_failure'], webhook: 'ftp://example.com/h' }],
      /alert rule alerts\[0\] \(on: check_failure, run_failure\): webhook: must be an http\(s\) URL or env:NAME/,
    ],
    [
      'an SMTP password written into strata.json',
      [{ on: ['run_failure'], email: { to: 'a@example.com', from: 'b@example.com', host: 'smtp.example.com', password: 'hunter2' } }],
      /alert rule alerts\[0\] \(on: run_failure\): email\.password: an SMTP password must not be written in the configuration/,
    ],
  ])('%s', (_what, alerts, message) => {
    const project = projectWith(`bad-${Math.random().toString(36).slice(2, 8)}`, alerts);
    const result = runCli(['materialize', '--select', '*', '--project', project]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('strata.json');
    expect(result.stderr).not.toContain('hunter2');
    expect(stackFrames(result.stderr)).toEqual([]);
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
  });
});

describe('a failing run', () => {
  it('POSTs the alert to the webhook before the CLI exits, and still exits 1', async () => {
    http = await startHttpReceiver();
    const project = projectWith('webhook', [{ on: ['run_failure'], select: 'marts/*', webhook: `${http.base}/hook` }]);
    const started = Date.now();
    const result = await startCli(['materialize', '--select', '*', '--project', project]).done;
    expect(result.status, result.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(http.posts).toHaveLength(1);
    expect(http.posts[0]?.body).toMatchObject({
      rule: 'alerts[0]',
      kind: 'run_failure',
      asset: 'marts/broken',
      count: 1,
      url: 'http://127.0.0.1:3000/#/assets/marts/broken',
    });
    expect(String(http.posts[0]?.body.error)).toContain('upstream feed is empty');
  });
});

describe("the daemon's freshness miss", () => {
  it('reaches the webhook as a freshness_miss alert, once: a second daemon --once raises nothing new', async () => {
    http = await startHttpReceiver();
    const project = sandbox.writeProject('freshness-alert', {
      'package.json': '{"type":"module"}',
      'defs/marts/daily.sql': '-- freshness: 26h\nselect 1 as id\n',
      'strata.json': JSON.stringify({ name: 'freshness-alert', alerts: [{ on: ['freshness_miss'], webhook: `${http.base}/hook` }] }),
    });
    const first = await startCli(['daemon', '--once', '--project', project]).done;
    expect(first.status, first.stderr).toBe(0);
    expect(http.posts).toHaveLength(1);
    expect(http.posts[0]?.body).toMatchObject({ rule: 'alerts[0]', kind: 'freshness_miss', asset: 'marts/daily', count: 1 });
    const second = await startCli(['daemon', '--once', '--project', project]).done;
    expect(second.status, second.stderr).toBe(0);
    expect(http.posts).toHaveLength(1);
  });
});
