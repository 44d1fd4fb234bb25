/**
 * The run queue on Postgres storage, with real `assets worker` processes (`node bin/assets.js
 * worker`, the compiled engine when its build is current) on a project of no-op TypeScript
 * assets, a Postgres warehouse (team mode: every worker writes at once) and Postgres storage in a
 * schema of its own:
 *
 * (a) queued → running latency: idle workers, runs queued one at a time through
 *     `enqueueMaterialization` (as `assets materialize --queue` does), each waited for before the
 *     next; from the enqueue's commit (its call returned) to the claim (`started_at`) and to
 *     `run_start`. A few warm-up runs first (a worker's first run loads modules) are not timed.
 * (b) throughput: `runs` runs of `steps` no-op steps queued at once (one insert, as many rows as
 *     `enqueueMaterialization` writes), each run its own assets (runs of one asset would wait
 *     for each other's leases), drained by 1, 2 and 4 workers after a few warm-up runs; timed from the first claim
 *     to the last end, with the CPU time of the workers and of the Postgres server (when it runs
 *     on this machine) and where a run's time goes (from its timestamps and events).
 *
 * Needs a server: STRATA_BENCH_POSTGRES_URL, else STRATA_TEST_POSTGRES_URL (tests/postgres-cluster.sh).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { enqueueMaterialization } from '../core/engine/runs/queued-runs.ts';
import { Workspace } from '../core/engine/workspace.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { LISTENER_APPLICATION, QUEUE_CHANNEL } from '../storage/postgres-queue-listener.ts';
import type { Storage } from '../storage/index.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLOCK_TICK_MS = 10; // /proc/PID/stat counts CPU in 1/100 s on Linux

/** Percentiles of a sample, in ms. */
export interface Spread {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** One throughput round. */
export interface ThroughputFigures {
  readonly workers: number;
  readonly runs: number;
  readonly steps: number;
  /** First claim to last end. */
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly stepsPerSecond: number;
  /** CPU ms per run: the worker processes, the Postgres server (undefined: not on this machine). */
  readonly workerCpuMsPerRun: number;
  readonly postgresCpuMsPerRun: number | undefined;
  /** Mean ms per run: claim → run_start (planning, warehouse, leases), run_start → end (steps and their writes), end → the worker's next claim. */
  readonly startMs: number;
  readonly executeMs: number;
  readonly gapMs: number;
}

/** The bench's figures. */
export interface QueueFigures {
  readonly latency: { readonly runs: number; readonly workers: number; readonly toClaim: Spread; readonly toRunStart: Spread };
  readonly throughput: readonly ThroughputFigures[];
  /** One claim of the oldest of 200 queued runs and one enqueue, from this process (mean ms). */
  readonly claimMs: number;
  readonly enqueueMs: number;
}

/** What the bench does. */
export interface QueueBenchOptions {
  readonly url: string;
  readonly latencyRuns?: number;
  readonly runs?: number;
  readonly steps?: number;
  readonly workerCounts?: readonly number[];
  /** Profile the worker of the 1-worker round (\`node --cpu-prof\`, from its start to its stop) into this folder. */
  readonly profileDir?: string;
  readonly log?: (line: string) => void;
}

/** Runs both workloads on the server at `options.url`, in a schema of their own (dropped afterwards). */
export async function runQueueBench(options: QueueBenchOptions): Promise<QueueFigures> {
  const steps = options.steps ?? 1;
  const schema = `strata_bench_queue_${process.pid}`;
  const admin = new pg.Client({ connectionString: options.url });
  await admin.connect();
  const dir = mkdtempSync(join(tmpdir(), 'strata-queue-bench-'));
  const storageUrl = withSearchPath(options.url, schema);
  const env = { ...process.env, STRATA_BENCH_QUEUE_STORAGE: storageUrl, STRATA_BENCH_QUEUE_WAREHOUSE: withSearchPath(options.url, `${schema}_wh`) };
  await admin.query(`drop schema if exists ${schema} cascade; create schema ${schema}; drop schema if exists ${schema}_wh cascade; create schema ${schema}_wh`);
  const runs = options.runs ?? 300;
  writeProject(dir, runs, steps);
  process.env.STRATA_BENCH_QUEUE_STORAGE = env.STRATA_BENCH_QUEUE_STORAGE;
  process.env.STRATA_BENCH_QUEUE_WAREHOUSE = env.STRATA_BENCH_QUEUE_WAREHOUSE;
  const workspace = await Workspace.load({ project: dir }, { withStorage: true });
  try {
    const storage = await workspace.storage();
    // Run n materializes the assets bench/rN_s0, bench/rN_s1, …
    const select = (n: number) => `bench/r${n % runs}_*`;
    const enqueue = (n: number) => {
      const now = Date.now();
      const plan = buildPlan(
        workspace.project.graph,
        Array.from({ length: steps }, (_, s) => `bench/r${n % runs}_s${s}`),
        { now: new Date(now) },
      );
      return enqueueMaterialization(storage, { select: select(n), now }, plan, { graph: workspace.project.graph });
    };
    const server = await serverProcesses(admin);
    // The pools a queued run of these assets holds, as enqueueMaterialization records them.
    const { pools } = await enqueue(0);
    await admin.query(`truncate ${schema}.runs cascade`);

    // (a) latency: idle workers, one run at a time.
    const latencyRuns = options.latencyRuns ?? 200;
    const latencyWorkers = 2;
    const idle = await startWorkers(latencyWorkers, dir, env, admin, schema);
    const toClaim: number[] = [];
    const toRunStart: number[] = [];
    try {
      // Not timed: each worker's first run loads the executor's and the warehouse's modules.
      const warmUp = [];
      for (let i = 0; i < 2 * latencyWorkers; i++) warmUp.push(await enqueue(i));
      for (const run of warmUp) await waitForEnd(storage, run.id);
      for (let i = 0; i < latencyRuns; i++) {
        const run = await enqueue(i);
        const committedAt = Date.now();
        const ended = await waitForEnd(storage, run.id);
        toClaim.push((ended.startedAt ?? Number.NaN) - committedAt);
        const events = await storage.listEvents(run.id);
        toRunStart.push((events.find((e) => e.type === 'run_start')?.timestamp ?? Number.NaN) - committedAt);
        // Idle again: the worker is back waiting before the next run is queued.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await stopWorkers(idle);
    }
    options.log?.(`  (a) done: ${latencyRuns} runs`);

    // (b) throughput: a full queue drained by 1, 2, 4 workers.
    const throughput: ThroughputFigures[] = [];
    for (const workers of options.workerCounts ?? [1, 2, 4]) {
      await admin.query(`truncate ${schema}.runs cascade`);
      const profile = options.profileDir !== undefined && workers === 1 ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
      const started = await startWorkers(workers, dir, env, admin, schema, profile);
      try {
        const drain = async (count: number) => {
          await admin.query('begin');
          await admin.query(queueRunsSql(schema, count, steps, pools));
          await admin.query('select pg_notify($1, $2)', [QUEUE_CHANNEL, schema]);
          await admin.query('commit');
          await waitForCount(admin, `select count(*)::int as n from ${schema}.runs where status in ('success', 'failed', 'canceled')`, count);
        };
        // Not timed: a worker's first runs load the executor's and the warehouse's modules (~0.5 s of CPU each).
        await drain(3 * workers);
        await admin.query(`truncate ${schema}.runs cascade`);
        const cpuBefore = cpuMs(started.map((w) => w.pid));
        const serverBefore = server === undefined ? undefined : cpuMs(server());
        await drain(runs);
        const workerCpu = cpuMs(started.map((w) => w.pid)) - cpuBefore;
        const serverCpu = server === undefined || serverBefore === undefined ? undefined : cpuMs(server()) - serverBefore;
        const phases = await runPhases(admin, schema);
        if (phases.failed > 0) throw new Error(`${phases.failed} bench runs failed: ${phases.error}`);
        const seconds = phases.spanMs / 1000;
        throughput.push({
          workers,
          runs,
          steps: runs * steps,
          seconds,
          runsPerSecond: runs / seconds,
          stepsPerSecond: (runs * steps) / seconds,
          workerCpuMsPerRun: workerCpu / runs,
          postgresCpuMsPerRun: serverCpu === undefined ? undefined : serverCpu / runs,
          startMs: phases.startMs,
          executeMs: phases.executeMs,
          gapMs: phases.gapMs,
        });
        options.log?.(`  (b) done: ${workers} worker${workers === 1 ? '' : 's'}`);
      } finally {
        await stopWorkers(started);
      }
    }

    // The two queue statements alone, from this process.
    await admin.query(`truncate ${schema}.runs cascade`);
    await admin.query(queueRunsSql(schema, 200, steps, pools));
    let t = performance.now();
    for (let i = 0; i < 200; i++) await storage.claimQueuedRun({ now: Date.now(), pid: process.pid });
    const claimMs = (performance.now() - t) / 200;
    t = performance.now();
    for (let i = 0; i < 200; i++) await enqueue(i);
    const enqueueMs = (performance.now() - t) / 200;

    return {
      latency: { runs: latencyRuns, workers: latencyWorkers, toClaim: spread(toClaim), toRunStart: spread(toRunStart) },
      throughput,
      claimMs,
      enqueueMs,
    };
  } finally {
    await workspace.close();
    await admin.query(`drop schema if exists ${schema} cascade; drop schema if exists ${schema}_wh cascade`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** A project of `runs` × `steps` no-op TypeScript assets (`bench/rN_sM`), storage and warehouse on Postgres. */
function writeProject(dir: string, runs: number, steps: number): void {
  const file = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  file('package.json', '{ "type": "module", "private": true }\n');
  file('strata.json', JSON.stringify({ name: 'queue-bench', storage: 'env:STRATA_BENCH_QUEUE_STORAGE', warehouse: 'env:STRATA_BENCH_QUEUE_WAREHOUSE' }));
  const assets = [];
  for (let n = 0; n < runs; n++)
    for (let s = 0; s < steps; s++) assets.push(`export const r${n}_s${s} = asset({ key: 'bench/r${n}_s${s}', async materialize() {} });`);
  file('defs/bench/noop.ts', `import { asset } from 'strata';\n${assets.join('\n')}\n`);
}

/** `count` queued runs, run N of `bench/rN_*`, as `enqueueMaterialization` records them, created 1 ms apart. */
function queueRunsSql(schema: string, count: number, steps: number, pools: readonly string[] | null | undefined): string {
  const now = Date.now();
  return `insert into ${schema}.runs (id, status, trigger, selection, asset_keys, created_at, tags, request, pools)
    select gen_random_uuid()::text, 'queued', 'manual', sel, keys, ${now} + n, '{}', json_build_object('kind', 'materialize', 'select', sel, 'now', ${now})::text, ${pools == null ? 'null' : `'${JSON.stringify(pools)}'`}
    from generate_series(0, ${count - 1}) as n,
      lateral (select 'bench/r' || n || '_*' as sel) as s,
      lateral (select json_agg('bench/r' || n || '_s' || m order by m)::text as keys from generate_series(0, ${steps - 1}) as m) as k`;
}

interface Worker {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  output: string;
}

/** Starts `count` `assets worker` processes and waits until each listens. */
async function startWorkers(
  count: number,
  dir: string,
  env: NodeJS.ProcessEnv,
  admin: pg.Client,
  schema: string,
  nodeArgs: readonly string[] = [],
): Promise<Worker[]> {
  const workers = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [...nodeArgs, 'bin/assets.js', 'worker', '--project', dir], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: Worker = { child, pid: child.pid ?? 0, exited: new Promise((resolve) => child.on('close', () => resolve())), output: '' };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (worker.output = (worker.output + chunk).slice(-4_000)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (worker.output = (worker.output + chunk).slice(-4_000)));
    return worker;
  });
  const listening = `select count(*)::int as n from pg_stat_activity where application_name = '${LISTENER_APPLICATION} ${schema}'`;
  try {
    await waitForCount(admin, listening, count, 60_000);
  } catch (error) {
    await stopWorkers(workers);
    throw new Error(`the workers did not start listening: ${workers.map((w) => w.output).join('\n')}`, { cause: error });
  }
  return workers;
}

async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

async function waitForCount(admin: pg.Client, query: string, count: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await admin.query<{ n: number }>(query)).rows[0]?.n !== count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count}: ${query}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForEnd(storage: Storage, runId: string): Promise<{ startedAt: number | null }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await storage.getRun(runId);
    if (run !== undefined && run.endedAt !== null) {
      if (run.status !== 'success') throw new Error(`bench run ${runId} ended ${run.status}: ${run.error}`);
      return run;
    }
    if (Date.now() > deadline) throw new Error(`bench run ${runId} did not end (${run?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The processes of the server `admin` is connected to, when it runs on this machine (the postmaster's children, read again on each call). */
async function serverProcesses(admin: pg.Client): Promise<(() => number[]) | undefined> {
  const backend = (await admin.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
  const postmaster = backend === undefined ? undefined : statFields(backend)?.[1];
  if (postmaster === undefined) return undefined;
  return () => {
    const pids: number[] = [];
    for (const line of readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim().split(/\s+/)) if (line) pids.push(Number(line));
    return [Number(postmaster), ...pids];
  };
}

/** Fields of /proc/PID/stat after the command (state, ppid, …), or undefined when there is no such process here. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU ms of `pids` (those still alive). */
function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * CLOCK_TICK_MS;
}

/** Where the runs' time went, from their timestamps and `run_start` events. */
async function runPhases(
  admin: pg.Client,
  schema: string,
): Promise<{ spanMs: number; startMs: number; executeMs: number; gapMs: number; failed: number; error: string | null }> {
  const { rows } = await admin.query<{ span: number; start: number; execute: number; gap: number | null; failed: number; error: string | null }>(`
    with r as (
      select runs.pid, runs.status, runs.error, runs.started_at, runs.ended_at,
             (select min(e.timestamp) from ${schema}.events e where e.run_id = runs.id and e.type = 'run_start') as run_start,
             lead(runs.started_at) over (partition by runs.pid order by runs.started_at) as next_claim
      from ${schema}.runs)
    select (max(ended_at) - min(started_at))::float8 as span, avg(run_start - started_at)::float8 as start,
           avg(ended_at - run_start)::float8 as execute, avg(next_claim - ended_at)::float8 as gap,
           (count(*) filter (where status <> 'success'))::int as failed, max(error) as error
    from r`);
  const row = rows[0]!;
  return { spanMs: row.span, startMs: row.start, executeMs: row.execute, gapMs: row.gap ?? 0, failed: row.failed, error: row.error };
}

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN };
}
