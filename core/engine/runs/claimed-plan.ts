/**
 * Planning a run a worker claimed, again, from its recorded request and clock: a queued
 * materialization (`assets materialize --queue`, the UI's, or the daemon's with its exact
 * partitions) or a part of a queued backfill (`assets
 * backfill --queue`). A retry of a reclaimed run (see ../execution/run-retry.ts) first records
 * what its dead attempts published (commit recovery), then leaves out every asset partition
 * they committed, so nothing is written twice.
 */
import { StrataError, UsageError } from '../../model/errors.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { buildPlan, type Plan } from '../../model/planning/plan.ts';
import { selectAssets } from '../../model/selection/index.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import type { RunRecord, RunRequest, Storage } from '../../../storage/storage.ts';
import { prepareMaterialization } from '../execution/materialize-request.ts';
import { recoverCommits } from '../execution/commit-recovery.ts';
import { resumedRunsOf, type RetryFields } from '../execution/run-retry.ts';
import type { RunService } from './run-service.ts';
import type { Project } from '../../model/project.ts';
import type { ProjectConfig } from '../../model/config/project-config.ts';
import { isDeepStrictEqual } from 'node:util';
import { isObject } from '../../model/dbt/dbt-config.ts';

/** What every queued request carries besides what to plan. */
interface QueuedOptions extends RetryFields {
  readonly fullRefresh?: boolean;
  /** Snapshots a full refresh may drop and rebuild. */
  readonly force?: readonly string[];
  /** Steps at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** The plan's clock (epoch ms): which partitions exist. */
  readonly now: number;
  /** The `--vars` the project was loaded with when the run was queued: the worker renders the dbt models with them. */
  readonly dbtVars?: Readonly<Record<string, unknown>>;
}

/**
 * What a queued request records of the project it was planned on: its `--vars`, if any.
 *
 * @example
 * const request = { select, now: now.getTime(), ...queuedDbtVars(project.config) };
 */
export function queuedDbtVars(config: Pick<ProjectConfig, 'dbtVars'>): { readonly dbtVars?: Readonly<Record<string, unknown>> } {
  return config.dbtVars === undefined ? {} : { dbtVars: config.dbtVars };
}

/** What a queued materialization needs to run: the CLI's arguments, and the clock it was planned with. */
export interface QueuedMaterialization extends QueuedOptions {
  readonly kind: 'materialize';
  readonly select: string;
  readonly partition?: string;
  readonly staleOnly?: boolean;
  /**
   * Exactly these asset partitions (key → partitions, `null` for an unpartitioned asset), as
   * the daemon decided them; `select` is then only the label. A partition another process holds
   * a lease on is skipped, as in the daemon's own runs.
   */
  readonly partitions?: Readonly<Record<string, readonly (string | null)[]>>;
}

/** One run of a queued backfill: the backfill's selection, range and grouping, and which asset partitions of it this run writes. */
export interface QueuedBackfillPart extends QueuedOptions {
  readonly kind: 'backfill';
  /** The backfill's id. */
  readonly backfill: string;
  readonly select: string;
  readonly from: string;
  readonly to: string;
  readonly grouping: 'policy' | 'per_partition';
  /** The asset partitions (`key@partition`) of this run. */
  readonly parts: readonly string[];
}

/** A request a worker can run. */
export type QueuedRequest = QueuedMaterialization | QueuedBackfillPart;

/** A claimed run planned again: its plan, selected keys, and options. */
export interface ClaimedPlan {
  readonly request: QueuedRequest;
  /** The project it runs on: the service's, or the project loaded again with the request's `--vars`. */
  readonly project: Project;
  readonly plan: Plan;
  readonly keys: readonly string[];
  /** Asset partitions of the request its earlier attempts committed, left out of the plan. */
  readonly resumed: number;
  /** The runs it resumes (earlier attempts, or the failed runs a backfill's resume takes over). */
  readonly resumes: readonly string[];
}

/**
 * Plans `run` again from its request (a UsageError for one this Strata cannot read; a
 * definition or selection error for one that no longer plans), on the project loaded with the
 * request's `--vars`. A retry records the commits its
 * dead attempts published first, with the warehouse held, then leaves out what they committed.
 */
export async function planClaimed(service: RunService, run: RunRecord, signal: AbortSignal): Promise<ClaimedPlan> {
  const request = queuedRequest(run);
  const project = await projectWithVars(service.project, request.dbtVars);
  const storage = await service.storage();
  const earlier = resumedRunsOf(request as unknown as RunRequest);
  let committed = new Set<string>();
  if (earlier.length > 0) {
    await service.withWarehouse({ keys: [], signal }, (warehouse) => recoverCommits(storage, warehouse));
    committed = await committedBy(storage, run.assetKeys, earlier);
  }
  const wasCommitted = (key: string, partition: string | null) => committed.has(partitionId(key, partition));
  const now = new Date(request.now);
  if (request.kind === 'materialize' && request.partitions !== undefined) {
    const { plan, keys } = exactPlan(project.graph, request.partitions, now, wasCommitted);
    return { request, project, plan, keys, resumed: committed.size, resumes: earlier };
  }
  if (request.kind === 'materialize') {
    const { plan, keys } = await prepareMaterialization(
      { project, storage: () => service.storage(), landing: service.landing, now },
      { ...request, ...(committed.size > 0 ? { skip: wasCommitted } : {}) },
    );
    return { request, project, plan, keys, resumed: committed.size, resumes: earlier };
  }
  if ((await storage.getBackfill(request.backfill))?.status === 'canceled') throw new CanceledBackfillError(request.backfill);
  const { keys } = selectAssets(project.graph, request.select);
  const parts = new Set(request.parts);
  const plan = buildPlan(project.graph, keys, {
    now,
    partitions: { from: request.from, to: request.to },
    grouping: request.grouping,
    skip: (key, partition) => !parts.has(partitionId(key, partition)) || wasCommitted(key, partition),
  });
  return { request, project, plan, keys, resumed: request.parts.filter((part) => committed.has(part)).length, resumes: earlier };
}

/** `project`, or the same folder loaded again when it was loaded with other `--vars` than `dbtVars` (the run's). */
async function projectWithVars(project: Project, dbtVars: Readonly<Record<string, unknown>> | undefined): Promise<Project> {
  if (isDeepStrictEqual(project.config.dbtVars, dbtVars)) return project;
  const { loadProject } = await import('../project/project-loader.ts');
  return loadProject(project.config.dir, dbtVars === undefined ? {} : { dbtVars });
}

/** The plan of exactly `partitions` (the daemon's runs) at `now`, but those `skip` names; an asset the project no longer has is a UsageError. */
function exactPlan(
  graph: AssetGraph,
  partitions: Readonly<Record<string, readonly (string | null)[]>>,
  now: Date,
  skip: (key: string, partition: string | null) => boolean,
): { plan: Plan; keys: string[] } {
  const keys = Object.keys(partitions);
  const gone = keys.filter((key) => !graph.has(key));
  if (gone.length > 0) throw new UsageError(`the project no longer has asset${gone.length === 1 ? '' : 's'} ${gone.join(', ')}`);
  const wanted = new Set(keys.flatMap((key) => (partitions[key] ?? []).map((p) => partitionId(key, p))));
  return { plan: buildPlan(graph, keys, { now, skip: (key, partition) => !wanted.has(partitionId(key, partition)) || skip(key, partition) }), keys };
}

/** A run of a queued backfill claimed after `assets backfills cancel`: it ends canceled without running. */
export class CanceledBackfillError extends StrataError {
  constructor(backfillId: string) {
    super('backfill_canceled', `its backfill ${backfillId.slice(0, 8)} was canceled`, {}, false);
  }
}

/** The asset partitions of `keys` whose latest materialization was written by one of `runIds`. */
async function committedBy(storage: Storage, keys: readonly string[], runIds: readonly string[]): Promise<Set<string>> {
  const ours = new Set(runIds);
  const latest = await storage.latestMaterializations(keys);
  return new Set(latest.filter((m) => ours.has(m.runId)).map((m) => partitionId(m.assetKey, m.partition)));
}

/** The queued request a run's request describes (a UsageError for one this Strata does not know). */
export function queuedRequest(run: RunRecord): QueuedRequest {
  const request: RunRequest | null | undefined = run.request;
  const readable =
    typeof request?.select === 'string' &&
    typeof request.now === 'number' &&
    (request.dbtVars === undefined || isObject(request.dbtVars)) &&
    (request.kind === 'materialize' ||
      (request.kind === 'backfill' && typeof request.backfill === 'string' && typeof request.from === 'string' && Array.isArray(request.parts)));
  if (!readable) throw new UsageError(`run ${run.id} was queued with a request this Strata cannot read: ${JSON.stringify(request ?? null)}`);
  return request as unknown as QueuedRequest;
}
