import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/assets.js', import.meta.url));

/** Median and fastest wall time of a command, in ms. */
export interface CommandTimes {
  readonly medianMs: number;
  readonly minMs: number;
}

/**
 * Runs `assets ...args` on the bundled example in a fresh Node process `runs` times (after one
 * warm-up run, so that tsx's transform cache and the SQL dependency cache exist); `check`
 * validates each run's standard output.
 */
function timeCommand(args: readonly string[], runs: number, env: NodeJS.ProcessEnv = process.env, check: (stdout: string) => boolean = () => true): CommandTimes {
  const once = () => {
    const started = performance.now();
    const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
    if (result.status !== 0 || !check(result.stdout)) throw new Error(`assets ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
    return performance.now() - started;
  };
  once();
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] as number, minMs: times[0] as number };
}

/** `assets list` cold start on the bundled example. */
export function measureListColdStart(runs = 7): CommandTimes {
  return timeCommand(['list'], runs);
}

/**
 * "Nothing to do": the whole example is materialized into temp storage and warehouse files,
 * then `assets materialize --select '*' --stale-only` is timed (it observes the 1,462 landing
 * files, computes staleness and finds nothing stale).
 */
export function measureFreshStaleOnly(runs = 5): CommandTimes & { readonly buildMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-fresh-'));
  const env = { ...process.env, STRATA_STORAGE: join(dir, 'strata.db'), STRATA_WAREHOUSE: join(dir, 'warehouse.duckdb') };
  try {
    const started = performance.now();
    const build = spawnSync(process.execPath, [BIN, 'materialize', '--select', '*'], { encoding: 'utf8', env });
    if (build.status !== 0) throw new Error(`materializing the example failed: ${build.stderr}`);
    const buildMs = performance.now() - started;
    return { ...timeCommand(['materialize', '--select', '*', '--stale-only'], runs, env, (out) => out.startsWith('Nothing to do')), buildMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
