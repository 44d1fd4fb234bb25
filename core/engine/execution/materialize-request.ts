/**
 * What `assets materialize` and the UI's `POST /api/runs` do before running: resolve the
 * selection, check the partition, find what is stale (with `staleOnly`) and build the plan.
 * Everything a user can get wrong fails here, before anything is written.
 */

import { StrataError, UsageError, withArgument } from '../../model/errors.ts';
import { buildPlan, type Plan } from '../../model/planning/plan.ts';
import type { Project } from '../../model/project.ts';
import { selectAssets } from '../../model/selection/index.ts';
import { findStale } from '../staleness/find-stale.ts';
import type { StalenessReport } from '../../model/staleness/stale-partition.ts';
import { countByReason } from '../../model/staleness/reason-text.ts';
import type { Storage } from '../../../storage/storage.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';

/** A dbt microbatch model's `lookback` (batches a run builds again before the newest it builds); 0 for other assets. */
export function microbatchLookback(project: Project, key: string): number {
  const compute = project.definitions.get(key)?.compute;
  return compute?.type === 'sql' ? (compute.incremental?.microbatch?.lookback ?? 0) : 0;
}

/** A materialize request as the user wrote it. */
export interface MaterializeRequest {
  readonly select: string;
  /** One partition of the partitioned assets (default: all). */
  readonly partition?: string;
  /** Only the stale partitions of the selection. */
  readonly staleOnly?: boolean;
  /** Asset partitions left out (those a reclaimed run's earlier attempts committed). */
  readonly skip?: (key: string, partition: string | null) => boolean;
}

/** What {@link prepareMaterialization} reads. */
export interface MaterializeEnvironment {
  readonly project: Project;
  /** Opened only with `staleOnly` (the CLI's bad input must not create the storage file). */
  readonly storage: () => Promise<Storage>;
  readonly landing: LandingZone;
  readonly now: Date;
  /** How errors name the partition argument (`--partition` on the CLI, `partition` in the API). */
  readonly partitionArgument?: string;
}

/** A checked request: the selected keys and the plan. */
export interface PreparedMaterialization {
  readonly keys: readonly string[];
  readonly plan: Plan;
  /** With `staleOnly`: stale partitions counted by reason ("3 missing, 1 code changed"); else `''`. */
  readonly staleSummary: string;
}

/**
 * Resolves and plans a materialize request. A bad selection is a `SelectionError`; a partition
 * when nothing selected is partitioned, or a partition key that does not exist, is an error
 * naming the partition argument. With `staleOnly` the plan may be empty (everything fresh).
 *
 * @example
 * const { plan } = await prepareMaterialization({ project, storage, landing, now }, { select: 'marts/*', staleOnly: true });
 */
export async function prepareMaterialization(env: MaterializeEnvironment, request: MaterializeRequest): Promise<PreparedMaterialization> {
  const { project, now } = env;
  const argument = env.partitionArgument ?? '--partition';
  const { keys } = selectAssets(project.graph, request.select);
  if (request.partition !== undefined && !keys.some((key) => project.graph.spec(key).partitions)) {
    throw new UsageError(`${argument} ${request.partition}: none of the selected assets is partitioned`, argument);
  }
  let stale: StalenessReport | undefined;
  let staleSummary = '';
  if (request.staleOnly) {
    stale = await findStale({ project, storage: await env.storage(), landing: env.landing, keys, now });
    staleSummary = countByReason(stale.stale);
  }
  try {
    const plan = buildPlan(project.graph, keys, {
      now,
      ...(request.partition === undefined ? {} : { partitions: { key: request.partition } }),
      ...(stale ? { stale, lookback: (key: string) => microbatchLookback(project, key) } : {}),
      ...(request.skip ? { skip: request.skip } : {}),
    });
    return { keys, plan, staleSummary };
  } catch (error) {
    throw error instanceof StrataError && error.code === 'partition_invalid' ? withArgument(error, argument) : error;
  }
}
