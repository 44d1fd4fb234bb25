/**
 * `npm run bench`: runs every benchmark workload and prints its figures beside the target.
 * Usage: npm run bench [-- no-op | cold-start]
 */
import { measureListColdStart } from './cli-cold-start-bench.ts';
import { runNoOpSteps } from './no-op-steps-bench.ts';

const only = process.argv[2];

function row(name: string, figure: string, target: string, ok: boolean): void {
  console.log(`${name.padEnd(44)} ${figure.padStart(14)}   target ${target.padEnd(12)} ${ok ? 'ok' : 'MISSED'}`);
}

if (!only || only === 'no-op') {
  console.log('no-op TypeScript steps, one run, SQLite event log on (WAL), concurrency 4');
  for (const count of [1_000, 10_000]) {
    const f = await runNoOpSteps(count);
    if (f.status !== 'success') throw new Error(`bench run ended ${f.status}`);
    row(`  ${count.toLocaleString('en-US')} assets: ms per step`, f.msPerStep.toFixed(3), '≤ 0.5 ms', f.msPerStep <= 0.5);
    row(`  ${count.toLocaleString('en-US')} assets: total`, `${(f.totalMs / 1000).toFixed(2)} s`, count === 10_000 ? '≤ 5 s' : '≤ 0.5 s', f.totalMs <= count * 0.5);
    row(`  ${count.toLocaleString('en-US')} assets: peak RSS`, `${f.peakRssMb.toFixed(0)} MB`, '-', true);
  }
}

if (!only || only === 'cold-start') {
  console.log('CLI cold start: `assets list` on the bundled example, fresh process each time');
  const { medianMs, minMs } = measureListColdStart();
  row('  assets list: median of 7', `${medianMs.toFixed(0)} ms`, '≤ 400 ms', medianMs <= 400);
  row('  assets list: fastest', `${minMs.toFixed(0)} ms`, '-', true);
}
