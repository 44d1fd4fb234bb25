/**
 * dbt's microbatch `lookback` in the daemon's schedule runs: a run that builds batches of a
 * microbatch model also builds the `lookback` batches before the newest one again, as `dbt run`
 * and `assets materialize --stale-only` do, so rows that arrive late reach their batch.
 */
import type { Project } from '../../model/project.ts';
import { withLookback } from '../../model/planning/plan.ts';
import { microbatchLookback } from '../execution/materialize-request.ts';
import type { AssetPartitions } from './asset-partitions.ts';

/**
 * `requested` with each microbatch model's lookback batches added, in partition order. dbt
 * models have schedules, not automation conditions, so schedule runs are where this applies.
 *
 * @example
 * const partitions = withMicrobatchLookback(project, request.partitions, now);
 */
export function withMicrobatchLookback(project: Project, requested: AssetPartitions, now: Date): AssetPartitions {
  const partitions = new Map(requested);
  for (const [key, chosen] of requested) {
    const lookback = microbatchLookback(project, key);
    const definition = project.graph.has(key) ? project.graph.spec(key).partitions : undefined;
    if (lookback === 0 || definition === undefined) continue;
    const all = definition.keys(now);
    const keys = new Set(chosen.filter((p): p is string => p !== null));
    partitions.set(
      key,
      withLookback(
        all,
        all.filter((p) => keys.has(p)),
        lookback,
      ),
    );
  }
  return partitions;
}
