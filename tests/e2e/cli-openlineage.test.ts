/**
 * OpenLineage from the built CLI: events posted to a local HTTP receiver (`OPENLINEAGE_URL`,
 * `OPENLINEAGE_API_KEY` as bearer token) in the exact order of a run with a failing blocking
 * check; a receiver that is down never fails the run, the events wait on disk and the next
 * process sends them first; the file and console transports of strata.json; and a URL that is
 * not http(s) refused with exit 2 before anything runs.
 */
import fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenLineageValidator } from '../openlineage-validator.ts';
import { OPENLINEAGE_PROJECT_FILES, RUN_OF_A_FAILING_CHECK } from '../openlineage-fixture.ts';
import { closedPort } from '../postgres.ts';
import { runCli, Sandbox, stackFrames, startCli } from './cli-harness.ts';

const validator = new OpenLineageValidator();
let sandbox: Sandbox;

beforeAll(() => {
  sandbox = Sandbox.create();
});

afterAll(() => sandbox.cleanup());

/** What the receiver got: each request's path, headers and event. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly event: { eventType: string; job: { name: string }; run: { runId: string; facets: Record<string, { run?: { runId: string } }> } };
}

/** A local OpenLineage endpoint on 127.0.0.1 that keeps every event it is sent. */
async function startReceiver(port = 0): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, event: JSON.parse(body) });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received };
}

const stop = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('OpenLineage over HTTP', () => {
  it('posts every step event of a run with a failing blocking check, in order, with the bearer token', async () => {
    const project = sandbox.writeProject('http', { ...OPENLINEAGE_PROJECT_FILES, 'strata.json': '{ "name": "ol-http" }' });
    const receiver = await startReceiver();
    try {
      const { done } = startCli(['materialize', '--select', '*', '--project', project], {
        env: { OPENLINEAGE_URL: receiver.url, OPENLINEAGE_API_KEY: 'secret-key', OPENLINEAGE_NAMESPACE: 'e2e' },
      });
      const result = await done;
      expect(result.status, result.stderr).toBe(1);
      expect(result.stdout).toContain('✗ marts/by_customer');
      expect(receiver.received.map((r) => `${r.event.eventType} ${r.event.job.name}`)).toEqual(RUN_OF_A_FAILING_CHECK);
      for (const r of receiver.received) {
        expect(r.path).toBe('/api/v1/lineage');
        expect(r.headers.authorization).toBe('Bearer secret-key');
        expect(r.headers['content-type']).toBe('application/json');
        expect(validator.problems(r.event)).toEqual([]);
      }
      const parents = new Set(receiver.received.map((r) => r.event.run.facets.parent?.run?.runId));
      expect(parents.size).toBe(1);
      expect(result.stdout).toContain(`Run ${[...parents][0]?.slice(0, 8)} failed`);
      expect(fs.existsSync(path.join(project, '.strata', 'openlineage'))).toBe(false);
    } finally {
      await stop(receiver.server);
    }
  });

  it('keeps the events on disk while the receiver is down, the run succeeding, and sends them first when the next process starts', async () => {
    const project = sandbox.writeProject('down', { ...OPENLINEAGE_PROJECT_FILES, 'strata.json': '{ "name": "ol-down" }' });
    const down = `http://127.0.0.1:${await closedPort()}`;
    const first = await startCli(['materialize', '--select', 'raw/orders', '--project', project], { env: { OPENLINEAGE_URL: down } }).done;
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain(`OpenLineage: ${down} does not answer`);
    const outbox = path.join(project, '.strata', 'openlineage');
    const kept = fs
      .readdirSync(outbox)
      .flatMap((file) => fs.readFileSync(path.join(outbox, file), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Received['event']);
    expect(kept.map((e) => `${e.eventType} ${e.job.name}`)).toEqual(['START raw/orders', 'COMPLETE raw/orders']);

    const receiver = await startReceiver();
    try {
      const second = await startCli(['materialize', '--select', 'staging/orders', '--project', project], { env: { OPENLINEAGE_URL: receiver.url } }).done;
      expect(second.status, second.stderr).toBe(0);
      expect(receiver.received.map((r) => `${r.event.eventType} ${r.event.job.name}`)).toEqual([
        'START raw/orders',
        'COMPLETE raw/orders',
        'START staging/orders',
        'COMPLETE staging/orders',
      ]);
      expect(receiver.received.slice(0, 2).map((r) => r.event.run.runId)).toEqual(kept.map((e) => e.run.runId));
      expect(fs.readdirSync(outbox)).toEqual([]);
    } finally {
      await stop(receiver.server);
    }
  });
});

describe('OpenLineage to a file or the console', () => {
  it('appends one JSON line per event to the strata.json file, every one valid', () => {
    const config = { name: 'ol-file', openlineage: { file: 'lineage/events.jsonl', namespace: 'files' } };
    const project = sandbox.writeProject('file', { ...OPENLINEAGE_PROJECT_FILES, 'strata.json': JSON.stringify(config) });
    expect(runCli(['materialize', '--select', '*', '--project', project]).status).toBe(1);
    expect(runCli(['materialize', '--select', 'raw/orders', '--project', project]).status).toBe(0);
    const events = fs
      .readFileSync(path.join(project, 'lineage', 'events.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Received['event'] & { job: { namespace: string } });
    expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual([...RUN_OF_A_FAILING_CHECK, 'START raw/orders', 'COMPLETE raw/orders']);
    for (const event of events) {
      expect(validator.problems(event)).toEqual([]);
      expect(event.job.namespace).toBe('files');
    }
  });

  it('writes one JSON line per event to stderr with "console": true, leaving --json output alone', () => {
    const project = sandbox.writeProject('console', {
      ...OPENLINEAGE_PROJECT_FILES,
      'strata.json': '{ "name": "ol-console", "openlineage": { "console": true } }',
    });
    const result = runCli(['materialize', '--select', 'raw/orders', '--json', '--project', project]);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'success' });
    const events = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Received['event'] & { job: { namespace: string } });
    expect(events.map((e) => `${e.eventType} ${e.job.name} ${e.job.namespace}`)).toEqual(['START raw/orders ol-console', 'COMPLETE raw/orders ol-console']);
  });
});

describe('a bad OpenLineage setting', () => {
  it('exits 2 when the command starts, naming OPENLINEAGE_URL or the strata.json field, without a stack trace', () => {
    const project = sandbox.writeProject('bad', { ...OPENLINEAGE_PROJECT_FILES, 'strata.json': '{ "name": "ol-bad" }' });
    const fromEnv = runCli(['materialize', '--select', '*', '--project', project], { OPENLINEAGE_URL: 'ftp://lineage.example/' });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toContain('OPENLINEAGE_URL: "ftp://lineage.example/" is not an http(s) URL');
    expect(stackFrames(fromEnv.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(project, '.strata', 'strata.db'))).toBe(false);

    const cases: [object, string][] = [
      [{ url: 'file:///tmp/events' }, 'openlineage.url: "file:///tmp/events" is not an http(s) URL'],
      [{ url: 'http://user:pw@host' }, 'openlineage.url: must not hold a user or password'],
      [{ file: 'a.jsonl', console: true }, 'openlineage.console: only one of url, file and console'],
      [{ endpoint: 'http://host' }, 'openlineage: Unrecognized key: "endpoint"'],
    ];
    for (const [openlineage, message] of cases) {
      fs.writeFileSync(path.join(project, 'strata.json'), JSON.stringify({ name: 'ol-bad', openlineage }));
      const result = runCli(['materialize', '--select', '*', '--project', project]);
      expect(result.status, JSON.stringify(openlineage)).toBe(2);
      expect(result.stderr).toContain(message);
      expect(stackFrames(result.stderr)).toEqual([]);
    }
  });
});

describe('OpenLineage from backfills and the daemon', () => {
  const PARTITIONED = {
    'package.json': JSON.stringify({ type: 'module', private: true }),
    'defs/daily/ok.sql': [
      '-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)',
      '-- partition_column: day',
      '-- backfill_policy: single_run',
      'select range::date as day, 1 as v from range({{ partition_start }}::timestamp, {{ partition_end }}::timestamp, interval 1 day)',
    ].join('\n'),
    'defs/daily/bad.sql': [
      '-- partitioned_by: daily(start=2025-01-01, end=2025-01-04)',
      '-- partition_column: day',
      '-- backfill_policy: single_run',
      '-- check: not_null(v)',
      'select day, null::integer as v from daily.ok where day >= {{ partition_start }} and day < {{ partition_end }}',
    ].join('\n'),
    'defs/eager/one.sql': '-- automation: on_missing\nselect 1 as x',
  };
  const linesOf = (file: string) =>
    fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Received['event'] & { job: { name: string } });

  it('emits one START and one end per range step of a backfill (a failing range step FAILs once), and the events of daemon runs', async () => {
    const config = { name: 'ol-runs', openlineage: { file: 'events.jsonl' } };
    const project = sandbox.writeProject('runs', { ...PARTITIONED, 'strata.json': JSON.stringify(config) });
    const backfill = runCli(['backfill', '--select', 'daily/*', '--from', '2025-01-01', '--to', '2025-01-03', '--project', project]);
    expect(backfill.status, backfill.stdout + backfill.stderr).toBe(1);
    const events = linesOf(path.join(project, 'events.jsonl'));
    expect(events.map((e) => `${e.eventType} ${e.job.name}`)).toEqual(['START daily/ok', 'COMPLETE daily/ok', 'START daily/bad', 'FAIL daily/bad']);
    for (const event of events) expect(validator.problems(event)).toEqual([]);
    expect(events[0]?.run.runId).toBe(events[1]?.run.runId);
    expect(events[2]?.run.runId).toBe(events[3]?.run.runId);

    const daemon = runCli(['daemon', '--once', '--project', project]);
    expect(daemon.status, daemon.stdout + daemon.stderr).toBeLessThanOrEqual(1);
    const after = linesOf(path.join(project, 'events.jsonl')).slice(events.length);
    expect(after.map((e) => `${e.eventType} ${e.job.name}`)).toContain('COMPLETE eager/one');
    for (const event of after) expect(validator.problems(event)).toEqual([]);
  });
});
