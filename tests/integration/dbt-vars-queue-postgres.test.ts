/**
 * `--vars` travel with the runs the daemon and the UI queue (Postgres storage, the test
 * cluster): each queued request records the vars the project was loaded with, and a worker whose
 * own project was loaded without them builds the dbt model with them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schedule } from '../../core/model/definitions/schedule-definition.ts';
import { buildProject } from '../../core/model/project.ts';
import { AssetDaemon } from '../../core/engine/daemon/asset-daemon.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';
import { RunService } from '../../core/engine/runs/run-service.ts';
import { runWorker } from '../../core/engine/runs/run-worker.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { onPostgres, postgresMissing, postgresSchemaUrl } from '../postgres.ts';
import { call, startQuietServer } from './api-client.ts';

const missing = postgresMissing();
const SCHEMA = `dbt_vars_queue_${process.pid}`;

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: shop\nvars:\n  scale: 100\nmodels:\n  shop:\n    +materialized: table\n',
  'seeds/raw.csv': 'id,amount\n1,500\n',
  'models/dollars.sql': "select id, amount / {{ var('scale') }} as dollars from {{ ref('raw') }}\n",
};

describe.skipIf(missing !== undefined)(`--vars of runs queued by the daemon and the UI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let storage: PostgresStorage;

  beforeAll(async () => {
    await onPostgres(`drop schema if exists ${SCHEMA} cascade`, `create schema ${SCHEMA}`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-vars-queue-'));
    for (const [file, text] of Object.entries(FILES)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    storage = await PostgresStorage.open(postgresSchemaUrl(SCHEMA));
  });

  afterAll(async () => {
    await storage?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await onPostgres(`drop schema if exists ${SCHEMA} cascade`);
  });

  async function dollars(): Promise<unknown[]> {
    const warehouse = await DuckDBWarehouse.open((await loadProject(dir)).config.warehouseFile);
    try {
      return await warehouse.query('select dollars::int as dollars from main.dollars');
    } finally {
      warehouse.close();
    }
  }

  it('the daemon and the UI record the vars in the requests they queue; the worker builds with them', async () => {
    const loaded = await loadProject(dir, { dbtVars: { scale: 10 } });
    const hourly = schedule({ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', selection: '+main/dollars' });
    const project = buildProject(loaded.config, [...loaded.definitions.values()], [hourly]);
    const landing = new FileLandingZone(project.config.landingDir);
    const daemon = new AssetDaemon({ project, storage, landing, queue: true });
    // The first tick starts the schedule; the next, past the hour, queues its run.
    await daemon.runIteration(new Date('2025-03-01T11:59:00Z'));
    const tick = await daemon.runIteration(new Date('2025-03-01T12:00:05Z'));
    await daemon.close();
    expect(tick.runIds).toHaveLength(1);
    expect((await storage.getRun(tick.runIds[0] as string))?.request).toMatchObject({ kind: 'materialize', dbtVars: { scale: 10 } });

    const worker = new RunService({ project: await loadProject(dir), storage });
    expect(
      await runWorker({ service: worker, concurrency: 1, once: true }, { stop: new AbortController().signal, cancel: new AbortController().signal }),
    ).toEqual([{ runId: tick.runIds[0], status: 'success' }]);
    await worker.close();
    expect(await dollars()).toEqual([{ dollars: 50 }]);

    const server = await startQuietServer(await loadProject(dir, { dbtVars: { scale: 1 } }), storage, { queue: true });
    try {
      const launched = await call(server.url, 'POST', '/api/runs', { select: 'main/dollars' });
      expect(launched.status).toBe(202);
      expect((await storage.getRun((launched.body as { runId: string }).runId))?.request).toMatchObject({ dbtVars: { scale: 1 } });
    } finally {
      await server.close();
    }
    const again = new RunService({ project: await loadProject(dir), storage });
    const worked = await runWorker(
      { service: again, concurrency: 1, once: true },
      { stop: new AbortController().signal, cancel: new AbortController().signal },
    );
    await again.close();
    expect(worked.map((w) => w.status)).toEqual(['success']);
    expect(await dollars()).toEqual([{ dollars: 500 }]);
  });
});
