/**
 * A TSV larger than the warehouse's memory limit: the same `read_csv` load run directly in DuckDB
 * and as a Strata SQL asset (`assets materialize` in-process), each in a process of its own with
 * the same DuckDB settings, so each process's peak RSS is its own. The file is generated in a temp
 * folder and deleted afterwards.
 *
 * The loads alternate, (a) then (b), for `STRATA_BENCH_ROUNDS` rounds (default 2), and each round
 * reports its own ratio, so a change in the machine's load during the run does not decide it.
 *
 * Usage (bench/run.ts does this): `tsx bench/big-tsv-bench.ts --json`; `STRATA_BENCH_TSV_MB`
 * (default 1536) sets the file's size, `STRATA_BENCH_MEMORY` (default 512MB) the memory limit;
 * `STRATA_BENCH_TSV_FILE` loads an existing TSV (kept) instead of generating one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { Workspace } from '../core/engine/workspace.ts';
import { executeRun } from '../core/engine/execution/executor.ts';
import { openProjectWarehouse } from '../core/engine/project-warehouse.ts';
import { buildPlan } from '../core/model/planning/plan.ts';

/** What {@link runBigTsv} measured. */
export interface BigTsvFigures {
  readonly fileMb: number;
  readonly rows: number;
  readonly memoryLimit: string;
  readonly threads: number;
  readonly generateMs: number;
  /** The rounds in the order they ran; each is (a) then (b). */
  readonly rounds: readonly BigTsvRound[];
}

/** One round: the DuckDB load, then the Strata load. */
export interface BigTsvRound {
  readonly duckdb: LoadFigures;
  readonly strata: StrataLoadFigures;
}

/** One load, measured in its own process. */
export interface LoadFigures {
  readonly ms: number;
  /** CPU time (user + system, all threads) of the load's process. */
  readonly cpuMs: number;
  readonly rows: number;
  readonly peakRssMb: number;
  /** The machine's 1-minute load average when the load started. */
  readonly loadAverage: number;
}

/** The Strata load's figures, with the progress it reported. */
export interface StrataLoadFigures extends LoadFigures {
  readonly progressEvents: number;
  readonly maxPercentage: number;
  readonly firstProgressMs: number | null;
}

const THREADS = 2;
/** About 80 bytes a row. */
const BYTES_PER_ROW = 80;

function readCsvSql(file: string): string {
  return `select * from read_csv('${file.replaceAll("'", "''")}', delim = '\\t', header = true)`;
}

/**
 * Generates the TSV (unless `existingFile` is given), runs the loads in child processes, (a) then
 * (b) for each round, and deletes everything it created.
 */
export async function runBigTsv(
  sizeMb = Number(process.env.STRATA_BENCH_TSV_MB ?? 1536),
  memoryLimit = process.env.STRATA_BENCH_MEMORY ?? '512MB',
  roundCount = Number(process.env.STRATA_BENCH_ROUNDS ?? 2),
  existingFile = process.env.STRATA_BENCH_TSV_FILE,
): Promise<BigTsvFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-tsv-'));
  try {
    const file = existingFile ?? join(dir, 'orders.tsv');
    const started = performance.now();
    if (existingFile === undefined) await generateTsv(file, Math.round((sizeMb * 1024 * 1024) / BYTES_PER_ROW));
    const generateMs = performance.now() - started;
    const settings = { memoryLimit, threads: THREADS };
    // Each load gets a fresh folder, deleted once it is measured, so only one warehouse is on disk at a time.
    const child = <T>(mode: string, folder: string): T => {
      mkdirSync(folder);
      try {
        const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--${mode}`, folder, file, JSON.stringify(settings)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        });
        return JSON.parse(out) as T;
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    };
    const rounds: BigTsvRound[] = [];
    for (let round = 0; round < roundCount; round++) {
      const duckdb = child<LoadFigures>('duckdb', join(dir, `duckdb-${round}`));
      const strata = child<StrataLoadFigures>('strata', join(dir, `strata-${round}`));
      rounds.push({ duckdb, strata });
    }
    return { fileMb: statSync(file).size / 1024 / 1024, rows: rounds[0]?.duckdb.rows ?? 0, memoryLimit, threads: THREADS, generateMs, rounds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What every load reports about its own process, given when it started. */
function processFigures(started: number, loadAverage: number): Pick<LoadFigures, 'ms' | 'cpuMs' | 'peakRssMb' | 'loadAverage'> {
  const usage = process.resourceUsage();
  return { ms: performance.now() - started, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, peakRssMb: usage.maxRSS / 1024, loadAverage };
}

/** Writes `rows` order lines as a TSV with a header (DuckDB's COPY, in a throw-away database). */
async function generateTsv(file: string, rows: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(THREADS), memory_limit: '1GB' });
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (
      select range as order_id, date '2020-01-01' + (range % 2000)::int as order_date, 'customer-' || (range * 7919 % 1000003) as customer,
        round((range % 100000) / 7.0, 2) as amount, md5(range::varchar) as note
      from range(${rows})
    ) TO '${file.replaceAll("'", "''")}' (header, delimiter '\t')`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Child: the load straight in DuckDB, with the same settings Strata passes. */
async function loadWithDuckDb(folder: string, file: string, settings: { memoryLimit: string; threads: number }): Promise<LoadFigures> {
  const loadAverage = loadavg()[0] ?? 0;
  const started = performance.now();
  const instance = await DuckDBInstance.create(join(folder, 'warehouse.duckdb'), {
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: join(folder, 'tmp'),
  });
  const connection = await instance.connect();
  await connection.run('CREATE SCHEMA raw');
  await connection.run(`CREATE TABLE raw.orders AS ${readCsvSql(file)}`);
  const rows = Number((await connection.runAndReadAll('select count(*) from raw.orders')).getRows()[0]?.[0]);
  connection.closeSync();
  instance.closeSync();
  return { ...processFigures(started, loadAverage), rows };
}

/** Child: a Strata project whose SQL asset is the same `read_csv`, materialized as the CLI does. */
async function loadWithStrata(folder: string, file: string, settings: { memoryLimit: string; threads: number }): Promise<StrataLoadFigures> {
  writeFileSync(join(folder, 'strata.json'), JSON.stringify({ name: 'big-tsv', warehouse: { ...settings, tempDirectory: 'tmp' } }));
  mkdirSync(join(folder, 'defs', 'raw'), { recursive: true });
  writeFileSync(join(folder, 'defs', 'raw', 'orders.sql'), `${readCsvSql(file)}\n`);
  const loadAverage = loadavg()[0] ?? 0;
  const started = performance.now();
  const workspace = await Workspace.load({ project: folder });
  let progressEvents = 0;
  let maxPercentage = 0;
  let firstProgressMs: number | null = null;
  const warehouse = await openProjectWarehouse(workspace.project.config, { wait: false });
  try {
    const result = await executeRun({
      project: workspace.project,
      plan: buildPlan(workspace.project.graph, ['raw/orders']),
      storage: await workspace.storage(),
      warehouse,
      landing: workspace.landing(),
      selection: 'raw/orders',
      onEvent: (event) => {
        if (event.type !== 'step_progress') return;
        progressEvents++;
        firstProgressMs ??= performance.now() - started;
        maxPercentage = Math.max(maxPercentage, Number(event.data?.percentage ?? 0));
      },
    });
    if (result.status !== 'success') throw new Error(`the Strata load ended ${result.status}: ${result.error ?? result.steps[0]?.error}`);
    const rows = result.steps[0]?.rowCount ?? 0;
    warehouse.close();
    await workspace.close();
    return { ...processFigures(started, loadAverage), rows, progressEvents, maxPercentage, firstProgressMs };
  } catch (error) {
    warehouse.close();
    await workspace.close();
    throw error;
  }
}

// `tsx bench/big-tsv-bench.ts --json` runs the workload; `--duckdb|--strata FOLDER FILE SETTINGS` is one child.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, folder, file, settings] = process.argv.slice(2);
  if (mode === '--json') console.log(JSON.stringify(await runBigTsv()));
  else if (mode === '--duckdb' || mode === '--strata') {
    const load = mode === '--duckdb' ? loadWithDuckDb : loadWithStrata;
    console.log(JSON.stringify(await load(folder as string, file as string, JSON.parse(settings as string))));
  }
}
