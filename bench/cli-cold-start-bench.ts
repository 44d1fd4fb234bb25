import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEngineBuilt } from '../bin/engine-build.js';

const BIN = fileURLToPath(new URL('../bin/assets.js', import.meta.url));

/** Median and fastest wall time of a command, in ms, and of a bare `node -e 0` alternated with it. */
export interface ColdStartTimes {
  readonly medianMs: number;
  readonly minMs: number;
  /** `node -e 0`, started as many times, each run just before one of the command's. */
  readonly nodeMedianMs: number;
  /** The command's median over node's. */
  readonly ratio: number;
}

/** Wall time of one fresh process running `args` (ms); throws when it fails or `check` rejects its output. */
function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv, check: (stdout: string) => boolean = () => true): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  const ms = performance.now() - started;
  if (result.status !== 0 || !check(result.stdout)) throw new Error(`node ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Runs `assets ...args` on the bundled example in a fresh Node process `runs` times, each
 * right after a bare `node -e 0` (the machine is shared: the two see the same load), after one
 * warm-up run of each (tsx's transform cache and the SQL dependency cache then exist). The CLI
 * runs the compiled engine: dist/ is built first when it is missing or stale.
 */
async function timeAgainstNode(
  args: readonly string[],
  runs: number,
  env: NodeJS.ProcessEnv = process.env,
  check?: (stdout: string) => boolean,
): Promise<ColdStartTimes> {
  await ensureEngineBuilt();
  const command = [BIN, ...args];
  timeOnce(['-e', '0'], env);
  timeOnce(command, env, check);
  const node: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(timeOnce(['-e', '0'], env));
    times.push(timeOnce(command, env, check));
  }
  const medianMs = median(times);
  const nodeMedianMs = median(node);
  return { medianMs, minMs: Math.min(...times), nodeMedianMs, ratio: medianMs / nodeMedianMs };
}

/** `assets list` cold start on the bundled example. */
export function measureListColdStart(runs = 9): Promise<ColdStartTimes> {
  return timeAgainstNode(['list'], runs);
}

/**
 * "Nothing to do": the whole example is materialized into temp storage and warehouse files,
 * then `assets materialize --select '*' --stale-only` is timed (it observes the 1,462 landing
 * files, computes staleness and finds nothing stale).
 */
export async function measureFreshStaleOnly(runs = 7): Promise<ColdStartTimes & { readonly buildMs: number }> {
  await ensureEngineBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-fresh-'));
  const env = { ...process.env, STRATA_STORAGE: join(dir, 'strata.db'), STRATA_WAREHOUSE: join(dir, 'warehouse.duckdb') };
  try {
    const buildMs = timeOnce([BIN, 'materialize', '--select', '*'], env);
    return { ...(await timeAgainstNode(['materialize', '--select', '*', '--stale-only'], runs, env, (out) => out.startsWith('Nothing to do'))), buildMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
