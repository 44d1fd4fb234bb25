import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/assets.js', import.meta.url));

/**
 * Median wall time of `assets list` on the bundled example, each a fresh Node process
 * (one warm-up run first, so that tsx's transform cache and the SQL dependency cache exist).
 */
export function measureListColdStart(runs = 7): { medianMs: number; minMs: number } {
  const once = () => {
    const started = performance.now();
    const result = spawnSync(process.execPath, [BIN, 'list'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`assets list failed: ${result.stderr}`);
    return performance.now() - started;
  };
  once();
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] as number, minMs: times[0] as number };
}
