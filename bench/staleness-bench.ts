/**
 * Staleness at scale: 10,000 daily-partitioned assets (100 per layer, each reading up to three
 * assets of the layer before) with a year of history — one materialization per asset and day,
 * as a year of daily runs would have written them (3.65 M rows in `materializations` and in the
 * latest index). One upstream partition is then rematerialized with new data, and staleness of
 * the whole graph is computed from the SQLite file (or, with `--postgres`, from Postgres storage
 * on STRATA_BENCH_POSTGRES_URL / STRATA_TEST_POSTGRES_URL, in a schema of its own). The report
 * must name exactly the partitions downstream of the change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { daily } from '../core/model/partitions/index.ts';
import { depsVersionOf } from '../core/model/definitions/code-version.ts';
import { buildProject } from '../core/model/project.ts';
import { loadProjectConfig } from '../core/engine/project/project-config.ts';
import { computeStaleness } from '../core/model/staleness/compute-staleness.ts';
import { SqliteStorage } from '../storage/index.ts';
import type { Storage } from '../storage/index.ts';
import { PostgresStorage } from '../storage/postgres-storage.ts';
import { benchPostgresUrl } from './pg-extract-bench.ts';
import { writePostgresHistory } from './staleness-history-postgres.ts';
import { layeredNoOpAssets } from './no-op-steps-bench.ts';

/** Figures of one staleness pass. */
export interface StalenessFigures {
  readonly assets: number;
  readonly partitions: number;
  readonly historyRows: number;
  readonly generateMs: number;
  readonly staleness: { readonly ms: number; readonly stale: number; readonly expected: number; readonly correct: boolean };
  readonly fresh: { readonly ms: number; readonly stale: number };
  readonly peakRssMb: number;
}

/** The days of 2025; `NOW` is after them, so every one exists. */
export const DAYS = daily({ start: '2025-01-01', end: '2026-01-01', timezone: 'UTC' });
export const NOW = new Date('2026-06-01T00:00:00Z');

/** The schema the Postgres variant writes its history into (dropped and created anew). */
const POSTGRES_SCHEMA = 'strata_bench_staleness';

/**
 * Builds the workload in a temp folder (or a Postgres schema, with `postgresUrl`), changes one
 * upstream partition and times staleness.
 */
export async function runStaleness(count = 10_000, postgresUrl?: string): Promise<StalenessFigures> {
  const dir = process.env.STRATA_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'strata-bench-staleness-'));
  writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'staleness-bench' }));
  try {
    const config = loadProjectConfig(dir);
    const project = buildProject(config, benchAssets(count));
    const generateStarted = performance.now();
    let historyRows: number;
    let storage: Storage;
    if (postgresUrl === undefined) {
      await (await SqliteStorage.open(config.storageFile)).close(); // creates the schema
      // In a child process, so this process's peak RSS is the staleness pass alone.
      historyRows = Number(
        execFileSync(
          process.execPath,
          [...process.execArgv, fileURLToPath(new URL('./staleness-history.ts', import.meta.url)), config.storageFile, String(count)],
          { encoding: 'utf8' },
        ).trim(),
      );
      storage = await SqliteStorage.open(config.storageFile);
    } else {
      const url = new URL(postgresUrl);
      url.searchParams.set('options', `-c search_path=${POSTGRES_SCHEMA}`);
      await onPostgres(postgresUrl, `drop schema if exists ${POSTGRES_SCHEMA} cascade`);
      await onPostgres(postgresUrl, `create schema ${POSTGRES_SCHEMA}`);
      await (await PostgresStorage.open(url.toString())).close(); // creates the schema
      historyRows = await writePostgresHistory(url.toString(), project.graph);
      storage = await PostgresStorage.open(url.toString());
    }
    const generateMs = performance.now() - generateStarted;

    try {
      const freshStarted = performance.now();
      const fresh = await computeStaleness({ project, storage, now: NOW });
      const freshMs = performance.now() - freshStarted;

      // One upstream partition gets new data: a root asset rewritten for 2025-06-15.
      const changed = project.graph.keys[42] as string;
      const day = '2025-06-15';
      await storage.createRun({
        id: 'change',
        status: 'success',
        trigger: 'manual',
        selection: changed,
        assetKeys: [changed],
        createdAt: 1,
        startedAt: 1,
        endedAt: 1,
        error: null,
        tags: {},
      });
      const readSeq = await storage.currentSequence();
      await storage.commitStep({
        events: [],
        materializations: [
          {
            assetKey: changed,
            partition: day,
            runId: 'change',
            timestamp: Date.now(),
            codeVersion: 'v1',
            dataVersion: 'dv:new',
            inputDataVersions: {},
            rowCount: 100,
            metadata: {},
            readSeq,
            depsVersion: depsVersionOf([]),
          },
        ],
      });

      const started = performance.now();
      const report = await computeStaleness({ project, storage, now: NOW });
      const ms = performance.now() - started;

      const downstream = project.graph.downstream([changed]);
      const children = new Set(project.graph.children(changed));
      const correct =
        report.stale.length === downstream.size &&
        report.stale.every(
          (p) => p.partition === day && downstream.has(p.key) && p.reasons[0]?.kind === (children.has(p.key) ? 'upstream_changed' : 'upstream_stale'),
        );
      return {
        assets: count,
        partitions: count * DAYS.keys(NOW).length,
        historyRows,
        generateMs,
        staleness: { ms, stale: report.stale.length, expected: downstream.size, correct },
        fresh: { ms: freshMs, stale: fresh.stale.length },
        peakRssMb: process.resourceUsage().maxRSS / 1024,
      };
    } finally {
      await storage.close();
      if (postgresUrl !== undefined) await onPostgres(postgresUrl, `drop schema if exists ${POSTGRES_SCHEMA} cascade`);
    }
  } finally {
    if (!process.env.STRATA_BENCH_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one statement on the server at `url` with a client of its own. */
async function onPostgres(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The workload's graph: the no-op bench's layered graph, every asset partitioned by day. */
export function benchAssets(count: number) {
  return layeredNoOpAssets(count, 100, { partitions: DAYS, codeVersion: 'v1' });
}

// `tsx bench/staleness-bench.ts --json [--postgres]`: run the workload and print its figures (bench/run.ts does).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--json')) {
  const postgres = process.argv.includes('--postgres');
  const url = postgres ? benchPostgresUrl() : undefined;
  if (postgres && url === undefined) throw new Error('no Postgres: set STRATA_BENCH_POSTGRES_URL (or run inside tests/postgres-cluster.sh)');
  console.log(JSON.stringify(await runStaleness(10_000, url)));
}
