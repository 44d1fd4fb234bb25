/**
 * OpenLineage from runs the UI server launches (`POST /api/runs`): the project's `"openlineage"`
 * file receives the START and COMPLETE events of each step, delivered by the time the server closes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { startApiServer } from '../../ui/server.ts';
import { OpenLineageValidator } from '../openlineage-validator.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace(
    'strata-ui-openlineage-',
    { name: 'ui-ol', openlineage: { file: 'events.jsonl', namespace: 'ui' } },
    { 'defs/raw/one.sql': 'select 1 as x\n', 'defs/marts/two.sql': 'select x + 1 as y from raw.one\n' },
  );
  workspace.warehouse.close();
});

afterEach(async () => {
  await workspace.storage.close();
  fs.rmSync(workspace.dir, { recursive: true, force: true });
});

it('sends the OpenLineage events of a run launched through the API', async () => {
  const project = await loadProject(workspace.dir);
  const server = await startApiServer(
    { project, storage: async () => workspace.storage },
    { port: 0, eventPollMs: 100, log: () => undefined, notice: () => undefined },
  );
  const headers = { 'content-type': 'application/json', origin: server.url };
  try {
    const launched = await fetch(`${server.url}/api/runs`, { method: 'POST', headers, body: JSON.stringify({ select: '*' }) });
    expect(launched.status).toBe(202);
    const { runId } = (await launched.json()) as { runId: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { run } = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as { run: { status: string } };
      if (run.status === 'success') break;
      expect(['queued', 'running']).toContain(run.status);
      if (Date.now() > deadline) throw new Error('the run did not end');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await server.close();
  }
  const events = fs
    .readFileSync(path.join(workspace.dir, 'events.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { eventType: string; job: { namespace: string; name: string } });
  expect(events.map((e) => `${e.eventType} ${e.job.namespace}/${e.job.name}`)).toEqual([
    'START ui/raw/one',
    'COMPLETE ui/raw/one',
    'START ui/marts/two',
    'COMPLETE ui/marts/two',
  ]);
  const validator = new OpenLineageValidator();
  for (const event of events) expect(validator.problems(event)).toEqual([]);
});
