import { randomUUID } from 'node:crypto';
import { buildPlan, type Plan } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { StrataError, UsageError } from '../../model/errors.ts';
import { selectAssets } from '../../model/selection/index.ts';
import type { Project } from '../../model/project.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import type { BackfillRecord, EventRecord, Storage } from '../../../storage/storage.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import { executeRun, type RunResult, type StepOutcome } from './executor.ts';
import { reapDeadRuns } from './dead-run-reaper.ts';
import { tellRecorded, type RecordedEventListener } from './run-events.ts';
import { recoverCommits } from './commit-recovery.ts';
import { findStale, skipFresh } from '../staleness/find-stale.ts';
import type { StalenessReport, StaleReason } from '../../model/staleness/stale-partition.ts';

/** What a backfill needs besides its request. */
export interface BackfillEnvironment {
  readonly project: Project;
  readonly storage: Storage;
  readonly warehouse: Warehouse;
  readonly landing: LandingZone;
  readonly now: Date;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** `--full-refresh`: incremental assets are rebuilt from scratch. */
  readonly fullRefresh?: boolean;
  /** With `fullRefresh`: the snapshots `--force` allows rebuilding from scratch. */
  readonly forcedSnapshots?: readonly string[];
  readonly onEvent?: (event: EventRecord) => void;
  /** Told of every recorded event of the backfill's run (see run-observers.ts). */
  readonly observers?: readonly RecordedEventListener[];
  /** Called once the plan is known, with the number of asset partitions it writes. */
  readonly onPlan?: (plan: Plan, partitions: number) => void;
  readonly onStepEnd?: (outcome: StepOutcome) => void;
}

/** A new backfill: the selection resolved to keys, an inclusive range, which partitions, how grouped. */
export interface BackfillRequest {
  readonly selection: string;
  readonly keys: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly mode: BackfillRecord['mode'];
  readonly grouping: BackfillRecord['grouping'];
  /** The backfill's id, chosen up front by a caller that must know it early (default: a new UUID). */
  readonly id?: string;
}

/** A finished (or stopped) backfill run. */
export interface BackfillOutcome {
  readonly backfill: BackfillRecord;
  readonly run: RunResult | undefined;
}

/**
 * Starts a backfill: stores it, plans the selection over the range (leaving out partitions
 * the mode says are done), and runs the plan. Every step it finishes is recorded as
 * materializations of the run, which the backfill lists, so {@link resumeBackfill} knows what is done.
 */
export async function startBackfill(env: BackfillEnvironment, request: BackfillRequest): Promise<BackfillOutcome> {
  // A killed run's last steps may be published but not recorded: record them before planning.
  await recoverCommits(env.storage, env.warehouse);
  const plan = await planBackfill(env, request);
  const backfill = newBackfillRecord(request.id ?? randomUUID(), request, countPartitions(plan));
  await env.storage.createBackfill(backfill);
  return runBackfill(env, backfill, plan);
}

/** What planning a backfill reads (no warehouse: a queued backfill is planned without one). */
export type BackfillPlanEnvironment = Pick<BackfillEnvironment, 'project' | 'storage' | 'landing' | 'now' | 'signal'>;

/** The plan of a new backfill: the selection over the range, less the partitions its mode leaves out. */
export async function planBackfill(env: BackfillPlanEnvironment, request: BackfillRequest): Promise<Plan> {
  // Stale-only plans go through the planner's own filter, which leaves out rebuilds that change nothing.
  const filter = request.mode === 'stale_only' ? { stale: await staleNow(env, request.keys) } : { skip: await modeFilter(env, request.keys, request.mode) };
  return buildPlan(env.project.graph, request.keys, {
    now: env.now,
    partitions: { from: request.from, to: request.to },
    grouping: request.grouping,
    ...filter,
  });
}

/** The record of a backfill just started: running, no runs yet, `total` partitions to build. */
export function newBackfillRecord(
  id: string,
  request: Pick<BackfillRequest, 'selection' | 'from' | 'to' | 'mode' | 'grouping'>,
  total: number,
): BackfillRecord {
  const now = Date.now();
  return {
    id,
    selection: request.selection,
    from: request.from,
    to: request.to,
    status: 'running',
    mode: request.mode,
    grouping: request.grouping,
    runIds: [],
    total,
    done: 0,
    failed: 0,
    error: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** How {@link resumeBackfill} treats the partitions the backfill's runs already committed. */
export interface ResumeOptions {
  /**
   * Leave out every partition the backfill's runs committed, even one that is stale now (the
   * behaviour before stale partitions were rebuilt). Default: rebuild the committed partitions
   * that are stale now.
   */
  readonly skipCommitted?: boolean;
}

/**
 * Resumes a backfill that crashed, failed or was canceled: plans its range again with the
 * partitions its runs did not commit, plus the committed ones that are stale now (a landing
 * file re-delivered, code changed, a later attempt failed, an upstream partition changed, or
 * one stale that this resume rebuilds) — so a backfill whose cause was fixed can finish. With `skipCommitted` every committed
 * partition is left out.
 */
export async function resumeBackfill(
  env: BackfillEnvironment,
  backfill: BackfillRecord,
  keys: readonly string[],
  options: ResumeOptions = {},
): Promise<BackfillOutcome> {
  if (backfill.status === 'success') throw new StrataError('backfill_done', `backfill ${backfill.id.slice(0, 8)} already succeeded: nothing to resume`);
  // A run of this backfill still marked running belongs to a process that stopped (crash, kill -9):
  // mark it failed at once (whatever its heartbeat says) and release its leases.
  await reapDeadRuns(env.storage, { timeoutMs: 0, runIds: backfill.runIds, reason: 'the process running it stopped; its backfill was resumed' });
  // A killed run's last step may be published but not recorded: record it before deciding what is done.
  await recoverCommits(env.storage, env.warehouse);
  const ours = new Set(backfill.runIds);
  const committed = new Set((await env.storage.latestMaterializations(keys)).filter((m) => ours.has(m.runId)).map((m) => partitionId(m.assetKey, m.partition)));
  const skipCommitted = options.skipCommitted === true;
  const stale = skipCommitted && backfill.mode !== 'stale_only' ? undefined : await staleNow(env, keys);
  const modeSkip = await modeFilter(env, keys, backfill.mode, stale);
  const skip = (key: string, partition: string | null) =>
    committed.has(partitionId(key, partition)) ? skipCommitted || !isStaleBesidesMissing(stale, key, partition) : modeSkip(key, partition);
  // A committed partition stale only through stale upstream partitions that this plan does not
  // rebuild (outside the range or the selection) would stay stale: the planner leaves it out.
  const worth =
    stale === undefined || skipCommitted
      ? undefined
      : {
          reasonsOf: (key: string, partition: string | null) =>
            committed.has(partitionId(key, partition)) || backfill.mode === 'stale_only' ? stale.reasonsOf(key, partition) : TO_DO,
        };
  const range = { from: backfill.from, to: backfill.to };
  const plan = buildPlan(env.project.graph, keys, { now: env.now, partitions: range, skip, grouping: backfill.grouping, ...(worth ? { stale: worth } : {}) });
  let rebuilt = 0;
  for (const step of plan.steps) for (const partition of step.partitions ?? [null]) if (committed.has(partitionId(step.key, partition))) rebuilt++;
  const done = committed.size - rebuilt;
  const resumed = { ...backfill, status: 'running' as const, done, failed: 0, error: null };
  await env.storage.updateBackfill(backfill.id, { status: 'running', done, failed: 0, error: null, updatedAt: Date.now() });
  return runBackfill(env, resumed, plan);
}

/** What the planner's staleness filter reads for a partition the backfill has still to do. */
const TO_DO: readonly StaleReason[] = Object.freeze([Object.freeze({ kind: 'missing' as const })]);

/** True when `report` calls the partition stale for a reason besides being missing. */
function isStaleBesidesMissing(report: StalenessReport | undefined, key: string, partition: string | null): boolean {
  return report?.reasonsOf(key, partition)?.some((reason) => reason.kind !== 'missing') === true;
}

async function runBackfill(env: BackfillEnvironment, backfill: BackfillRecord, plan: Plan): Promise<BackfillOutcome> {
  env.onPlan?.(plan, countPartitions(plan));
  if (plan.steps.length === 0) {
    const finished = { ...backfill, status: 'success' as const, updatedAt: Date.now() };
    await env.storage.updateBackfill(backfill.id, { status: 'success', updatedAt: finished.updatedAt });
    tellRecorded(env.observers, [backfillDoneEvent(finished, backfill.runIds.at(-1) ?? '', planKeys(plan))]);
    return { backfill: finished, run: undefined };
  }
  const runId = randomUUID();
  const runIds = [...backfill.runIds, runId];
  await env.storage.updateBackfill(backfill.id, { runIds, updatedAt: Date.now() });
  const controller = new AbortController();
  const abort = () => controller.abort();
  env.signal?.addEventListener('abort', abort, { once: true });
  if (env.signal?.aborted) controller.abort();
  let done = backfill.done;
  let failed = 0;
  let lastCheck = Date.now();
  // Progress is saved as each step ends (in order), so `assets backfills` shows it live and after a crash.
  let saving: Promise<void> = Promise.resolve();
  const run = await executeRun({
    project: env.project,
    plan,
    storage: env.storage,
    warehouse: env.warehouse,
    landing: env.landing,
    selection: backfill.selection,
    trigger: 'backfill',
    runId,
    signal: controller.signal,
    now: env.now,
    tags: { backfill: backfill.id, range: `${backfill.from}..${backfill.to}` },
    ...(env.concurrency === undefined ? {} : { concurrency: env.concurrency }),
    ...(env.fullRefresh ? { fullRefresh: true, forcedSnapshots: env.forcedSnapshots ?? [] } : {}),
    ...(env.onEvent ? { onEvent: env.onEvent } : {}),
    ...(env.observers ? { observers: env.observers } : {}),
    onStepEnd: (outcome) => {
      const partitions = outcome.partitions?.length ?? 1;
      if (outcome.status === 'success') done += partitions;
      if (outcome.status === 'failed') failed += partitions;
      const progress = { done, failed, updatedAt: Date.now() };
      saving = saving.then(() => env.storage.updateBackfill(backfill.id, progress));
      env.onStepEnd?.(outcome);
      // `assets backfills cancel` from another process: look at the record every two seconds.
      if (Date.now() - lastCheck > 2000) {
        lastCheck = Date.now();
        void env.storage.getBackfill(backfill.id).then((b) => b?.status === 'canceled' && controller.abort());
      }
    },
  });
  env.signal?.removeEventListener('abort', abort);
  await saving;
  const status = run.status === 'success' ? 'success' : run.status === 'canceled' ? 'canceled' : 'failed';
  const update = { status, done, failed, error: run.error ?? null, updatedAt: Date.now() } as const;
  await env.storage.updateBackfill(backfill.id, update);
  tellRecorded(env.observers, [backfillDoneEvent({ ...backfill, runIds, ...update }, runId, planKeys(plan))]);
  return { backfill: { ...backfill, runIds, ...update }, run };
}

/**
 * Resolves a backfill's selection and checks the range against every selected partitioned
 * asset, before anything is written: a bad selection is a `SelectionError`, a selection without
 * partitioned assets a `UsageError` naming `selectArgument`, a bad range a `partition_invalid` error.
 */
export function resolveBackfillKeys(
  project: Project,
  selection: string,
  range: { readonly from: string; readonly to: string },
  now: Date,
  selectArgument = '--select',
): readonly string[] {
  const { keys } = selectAssets(project.graph, selection);
  if (!keys.some((key) => project.graph.spec(key).partitions)) {
    throw new UsageError(`none of the assets selected by "${selection}" is partitioned: use assets materialize`, selectArgument);
  }
  buildPlan(project.graph, keys, { now, partitions: range });
  return keys;
}

/** The `backfill_done` event observers are told when a backfill ends (never stored). */
export function backfillDoneEvent(backfill: BackfillRecord, runId: string, keys: readonly string[]): EventRecord {
  const { id, status, done, failed, from, to, error, selection } = backfill;
  return {
    runId,
    timestamp: Date.now(),
    type: 'backfill_done',
    level: status === 'success' ? 'info' : 'error',
    assetKey: null,
    partition: null,
    message: `backfill ${id.slice(0, 8)} of ${selection} ${from}..${to} ended: ${status} (${done} done, ${failed} failed)`,
    data: { backfillId: id, status, done, failed, from, to, keys, ...(error ? { error } : {}) },
  };
}

/** The asset keys a plan writes, once each. */
function planKeys(plan: Plan): string[] {
  return [...new Set(plan.steps.map((step) => step.key))];
}

/** Asset partitions a plan writes. */
export function countPartitions(plan: Plan): number {
  return plan.steps.reduce((sum, step) => sum + (step.partitions?.length ?? 1), 0);
}

/**
 * Which asset partitions a mode leaves out: `missing_only` skips the materialized ones;
 * `stale_only` skips every partition staleness does not call stale (see core/model/staleness),
 * using `stale` when the caller already has the report.
 */
async function modeFilter(
  env: BackfillPlanEnvironment,
  keys: readonly string[],
  mode: BackfillRecord['mode'],
  stale?: StalenessReport,
): Promise<(key: string, partition: string | null) => boolean> {
  if (mode === 'all') return () => false;
  if (mode === 'stale_only') return skipFresh(stale ?? (await staleNow(env, keys)));
  const latest = new Set((await env.storage.latestMaterializations(keys)).map((m) => partitionId(m.assetKey, m.partition)));
  return (key, partition) => latest.has(partitionId(key, partition));
}

/** The staleness of `keys` now, after observing the sources upstream of them. */
function staleNow(env: BackfillPlanEnvironment, keys: readonly string[]): Promise<StalenessReport> {
  const { project, storage, landing, now } = env;
  return findStale({ project, storage, landing, keys, now, ...(env.signal ? { signal: env.signal } : {}) });
}
