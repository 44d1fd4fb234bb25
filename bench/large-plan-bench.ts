/**
 * A plan of a million steps: a chain of five hourly assets over 200,000 hours (from 2000-01-01,
 * the clock fixed 200,000 hours later), planned one step per partition. The last asset reads
 * the hour before too (`window(-1, 0)`), so its steps wait for two. Measures planning alone,
 * in a process of its own so the peak RSS is the plan's (bench/run.ts starts it).
 */
import { fileURLToPath } from 'node:url';
import { buildSpec, type AssetSpec } from '../core/model/definitions/asset-spec.ts';
import { countPartitions } from '../core/engine/execution/backfill-runner.ts';
import { AssetGraph } from '../core/model/graph/asset-graph.ts';
import { hourly, timeWindow } from '../core/model/partitions/index.ts';
import { buildPlan } from '../core/model/planning/plan.ts';

/** Figures of one large plan. */
export interface LargePlanFigures {
  readonly steps: number;
  readonly partitions: number;
  /** Longest `waitsFor` of a step (2 for the window(-1, 0) asset). */
  readonly maxWaits: number;
  readonly planMs: number;
  /** CPU time of the process while planning (main thread and GC threads). */
  readonly planCpuMs: number;
  /** V8 heap in use with the plan alive, after a full GC when `--expose-gc` is on. */
  readonly heapMb: number;
  readonly peakRssMb: number;
}

const HOURS = 200_000;
const ASSETS = 5;
const START = Date.UTC(2000, 0, 1);

/** The workload's assets: `chain/step_1` … `chain/step_5`, hourly from 2000-01-01. */
export function largePlanSpecs(): AssetSpec[] {
  const partitions = hourly({ start: '2000-01-01', timezone: 'UTC' });
  return Array.from({ length: ASSETS }, (_, i) => {
    const key = `chain/step_${i + 1}`;
    const parent = `chain/step_${i}`;
    const last = i === ASSETS - 1;
    return buildSpec(
      key,
      {
        deps: i === 0 ? [] : [parent],
        tags: {},
        owners: [],
        partitions,
        ...(last ? { partitionMappings: { [parent]: timeWindow({ startOffset: -1 }) } } : {}),
      },
      'sql',
    );
  });
}

/** Plans the workload once and returns its figures. */
export function runLargePlan(): LargePlanFigures {
  const graph = AssetGraph.build(largePlanSpecs());
  const now = new Date(START + HOURS * 3_600_000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const plan = buildPlan(graph, graph.keys, { now, grouping: 'per_partition' });
  const planMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  let maxWaits = 0;
  for (const step of plan.steps) maxWaits = Math.max(maxWaits, step.waitsFor.length);
  (globalThis as { gc?: () => void }).gc?.();
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  return {
    steps: plan.steps.length,
    partitions: countPartitions(plan),
    maxWaits,
    planMs,
    planCpuMs: (used.user + used.system) / 1000,
    heapMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

// `tsx bench/large-plan-bench.ts --json`: run the workload and print its figures (bench/run.ts does).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--json')) {
  console.log(JSON.stringify(runLargePlan()));
}
