/**
 * Column lineage of the bundled example, in a fresh process: the project is loaded, DuckDB's
 * native module imported (timed on its own: any command that parses SQL pays it once), then the
 * column lineage computed without a cache (timed: cold, a new in-memory DuckDB, every query
 * parsed and traced), then again from the cache by SQL hash (timed: warm). Run as a script with
 * `--json` it prints one measurement; {@link measureColumnLineage} starts it several times and
 * takes medians.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Medians over fresh processes, in ms. */
export interface ColumnLineageFigures {
  readonly sqlAssets: number;
  readonly tracedColumns: number;
  /** Importing `@duckdb/node-api` in the fresh process. */
  readonly duckdbImportMs: number;
  readonly coldMs: number;
  /** CPU time of the cold computation, all threads (steadier than wall time on a busy machine). */
  readonly coldCpuMs: number;
  readonly warmMs: number;
}

async function measureOnce(): Promise<ColumnLineageFigures> {
  const { loadProject } = await import('../core/engine/project/project-loader.ts');
  const { projectColumnLineage } = await import('../core/engine/lineage/project-column-lineage.ts');
  const project = await loadProject(fileURLToPath(new URL('../assets', import.meta.url)));
  const dir = mkdtempSync(join(tmpdir(), 'strata-column-lineage-bench-'));
  try {
    const cacheFile = join(dir, 'column-lineage.json');
    let started = performance.now();
    await import('@duckdb/node-api');
    const duckdbImportMs = performance.now() - started;
    started = performance.now();
    const cpu = process.cpuUsage();
    const lineage = await projectColumnLineage(project, { cacheFile });
    const coldMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const coldCpuMs = (used.user + used.system) / 1000;
    started = performance.now();
    await projectColumnLineage(project, { cacheFile });
    const warmMs = performance.now() - started;
    const sqlAssets = [...project.definitions.values()].filter((d) => d.compute.type === 'sql').length;
    const tracedColumns = [...lineage.values()].reduce((n, l) => n + (l.columns?.filter((c) => c.sources.length > 0).length ?? 0), 0);
    return { sqlAssets, tracedColumns, duckdbImportMs, coldMs, coldCpuMs, warmMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the measurement in `runs` fresh processes and returns the medians. */
export function measureColumnLineage(runs = 5): ColumnLineageFigures {
  const script = fileURLToPath(import.meta.url);
  const all: ColumnLineageFigures[] = [];
  for (let i = 0; i < runs; i++) {
    all.push(JSON.parse(execFileSync(process.execPath, [...process.execArgv, script, '--json'], { encoding: 'utf8' })) as ColumnLineageFigures);
  }
  const median = (pick: (f: ColumnLineageFigures) => number) => all.map(pick).sort((a, b) => a - b)[Math.floor(all.length / 2)] as number;
  const first = all[0] as ColumnLineageFigures;
  return {
    sqlAssets: first.sqlAssets,
    tracedColumns: first.tracedColumns,
    duckdbImportMs: median((f) => f.duckdbImportMs),
    coldMs: median((f) => f.coldMs),
    coldCpuMs: median((f) => f.coldCpuMs),
    warmMs: median((f) => f.warmMs),
  };
}

if (process.argv.includes('--json') && process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await measureOnce()));
}
