import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { executeRun } from '../core/engine/execution/executor.ts';
import { OpenLineageObserver } from '../core/engine/openlineage/openlineage-observer.ts';
import { loadProject } from '../core/engine/project/project-loader.ts';
import { buildPlan } from '../core/model/planning/plan.ts';
import { DuckDBWarehouse } from '../resources/duckdb-warehouse.ts';
import { FileLandingZone } from '../resources/landing-zone.ts';
import { HttpTransport } from '../resources/openlineage/http-transport.ts';
import { SqliteStorage } from '../storage/index.ts';

/** Figures of the OpenLineage overhead workload. */
export interface OpenLineageFigures {
  readonly steps: number;
  /** A run without OpenLineage: ms per step. */
  readonly noneMsPerStep: number;
  /** CPU ms per step of this process (every thread) without, live and down: less sensitive than wall time to a busy machine. */
  readonly cpuMsPerStep: { readonly none: number; readonly live: number; readonly down: number };
  /** CPU ms per step of the main thread alone (the one that runs the steps), flush excluded; Linux only, else NaN. */
  readonly mainCpuMsPerStep: { readonly none: number; readonly live: number; readonly down: number };
  /** With OpenLineage posting to a live local receiver (another process): ms per step. */
  readonly liveMsPerStep: number;
  /** With the receiver down (events kept on disk): ms per step. */
  readonly downMsPerStep: number;
  /**
   * What OpenLineage adds to a step, live and down: the median over the rounds of each round's
   * difference with the run without it (a busy moment then spoils one round's pair, not the figure).
   */
  readonly liveAddedMs: number;
  readonly downAddedMs: number;
  /** Delivering what was still queued when the run ended (`flush`), live and down, in ms. */
  readonly liveFlushMs: number;
  readonly downFlushMs: number;
  /** Events the receiver got in the last live round, and lines the outbox held in the last down round. */
  readonly received: number;
  readonly kept: number;
}

/** A local OpenLineage receiver in a process of its own (its CPU is not the run's): answers 201, counts events, `GET` gives the count. */
async function startReceiver(): Promise<{ child: ChildProcess; url: string; count: () => Promise<number> }> {
  const code = `
    let n = 0;
    const server = require('node:http').createServer((req, res) => {
      if (req.method === 'GET') return res.end(String(n));
      req.resume();
      req.on('end', () => { n++; res.writeHead(201).end(); });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  const url = `http://127.0.0.1:${port}`;
  return { child, url, count: async () => Number(await (await fetch(url)).text()) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** CPU ms the main thread has used (Linux: /proc/self/task/<pid>/stat, in clock ticks of 10 ms); NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A chain of `count` SQL assets (each `select x + 1 as x, … from` the one before, so column
 * lineage has something to trace) run one step at a time on a DuckDB file (one thread) with SQLite storage:
 * without OpenLineage, with events posted to a live receiver, and with the receiver down;
 * `rounds` rounds of the three, the fastest of each kept, and the median of each round's added cost.
 */
export async function runOpenLineageOverhead(count = 300, rounds = 9): Promise<OpenLineageFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-ol-'));
  const receiver = await startReceiver();
  const down = `http://127.0.0.1:${await closedPort()}`;
  try {
    mkdirSync(join(dir, 'defs', 'steps'), { recursive: true });
    writeFileSync(join(dir, 'strata.json'), JSON.stringify({ name: 'ol-bench', assets: 'defs' }));
    const name = (i: number) => `t_${String(i).padStart(5, '0')}`;
    for (let i = 0; i < count; i++) {
      const sql = i === 0 ? 'select 1 as x, 2 as y\n' : `select x + 1 as x, y, x * y as z from steps.${name(i - 1)} where y > 0\n`;
      writeFileSync(join(dir, 'defs', 'steps', `${name(i)}.sql`), sql);
    }
    const project = await loadProject(dir);
    const plan = buildPlan(project.graph, project.graph.keys);
    let round = 0;
    let received = 0;
    let kept = 0;
    const run = async (variant: 'none' | 'live' | 'down'): Promise<{ msPerStep: number; cpuMsPerStep: number; mainCpuMsPerStep: number; flushMs: number }> => {
      round++;
      const storage = await SqliteStorage.open(join(dir, `strata-${round}.db`));
      // One DuckDB thread: its idle threads' spinning would drown the figures on a busy machine.
      const warehouse = await DuckDBWarehouse.open(join(dir, `strata-${round}.duckdb`), { threads: 1 });
      const outboxDir = join(dir, `outbox-${round}`);
      const url = variant === 'live' ? receiver.url : down;
      const before = variant === 'live' ? await receiver.count() : 0;
      const observer =
        variant === 'none'
          ? undefined
          : new OpenLineageObserver({
              project,
              settings: { transport: { kind: 'http', url }, namespace: 'bench' },
              transport: new HttpTransport({ url, outboxDir, notice: () => undefined }),
              storage: async () => storage,
              notice: () => undefined,
            });
      try {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const mainCpu = mainThreadCpuMs();
        const result = await executeRun({
          project,
          plan,
          storage,
          warehouse,
          landing: new FileLandingZone(dir),
          selection: '*',
          concurrency: 1,
          ...(observer ? { observers: [observer] } : {}),
        });
        const ran = performance.now() - started;
        const mainCpuMsPerStep = (mainThreadCpuMs() - mainCpu) / count;
        if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.error}`);
        const flushStarted = performance.now();
        await observer?.flush(30_000);
        const flushMs = performance.now() - flushStarted;
        // CPU includes the background work done by the time the flush ends.
        const used = process.cpuUsage(cpu);
        const cpuMsPerStep = (used.user + used.system) / 1000 / count;
        if (variant === 'live') received = (await receiver.count()) - before;
        if (variant === 'down')
          kept = readdirSync(outboxDir)
            .flatMap((f) => readFileSync(join(outboxDir, f), 'utf8').split('\n'))
            .filter((l) => l !== '').length;
        return { msPerStep: ran / count, cpuMsPerStep, mainCpuMsPerStep, flushMs };
      } finally {
        warehouse.close();
        await storage.close();
      }
    };
    const best = { none: Number.POSITIVE_INFINITY, live: Number.POSITIVE_INFINITY, down: Number.POSITIVE_INFINITY };
    const flush = { live: 0, down: 0 };
    const cpu = { none: Number.POSITIVE_INFINITY, live: Number.POSITIVE_INFINITY, down: Number.POSITIVE_INFINITY };
    const mainCpu = { ...cpu };
    const added = { live: [] as number[], down: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const ms = { none: 0, live: 0, down: 0 };
      // The order turns round by round, so no variant always runs first (or last) in a round.
      const order = (['none', 'live', 'down'] as const).map((_, i, all) => all[(i + r) % all.length] as 'none' | 'live' | 'down');
      for (const variant of order) {
        const figures = await run(variant);
        ms[variant] = figures.msPerStep;
        cpu[variant] = Math.min(cpu[variant], figures.cpuMsPerStep);
        mainCpu[variant] = Math.min(mainCpu[variant], figures.mainCpuMsPerStep);
        if (figures.msPerStep < best[variant]) {
          best[variant] = figures.msPerStep;
          if (variant !== 'none') flush[variant] = figures.flushMs;
        }
      }
      added.live.push(ms.live - ms.none);
      added.down.push(ms.down - ms.none);
    }
    return {
      steps: count,
      noneMsPerStep: best.none,
      cpuMsPerStep: cpu,
      mainCpuMsPerStep: mainCpu,
      liveMsPerStep: best.live,
      downMsPerStep: best.down,
      liveAddedMs: median(added.live),
      downAddedMs: median(added.down),
      liveFlushMs: flush.live,
      downFlushMs: flush.down,
      received,
      kept,
    };
  } finally {
    receiver.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
