/**
 * Queued backfills (`assets backfill --queue`): the backfill is planned and recorded, and its plan
 * is queued as runs that several `assets worker`s run at once. The plan is cut where no step
 * waits for another: each group of steps tied by waits or writing the same partitions (one
 * partition of every selected asset when nothing reads another partition; everything when a step
 * reads the previous day, or a single-run asset writes the whole range) is one run, so no run
 * waits for another's steps.
 * Workers keep the backfill's status and counts (see ../execution/queued-backfill-progress.ts);
 * `--resume` queues again what its failed runs did not commit.
 */
import { randomUUID } from 'node:crypto';
import { StrataError } from '../../model/errors.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { buildPlan, type Plan, type PlanStep } from '../../model/planning/plan.ts';
import type { BackfillRecord, RunRecord } from '../../../storage/storage.ts';
import { countPartitions, newBackfillRecord, planBackfill, type BackfillPlanEnvironment, type BackfillRequest } from '../execution/backfill-runner.ts';
import { partsOf, queuedBackfillState, refreshQueuedBackfill } from '../execution/queued-backfill-progress.ts';
import { queuedDbtVars, type QueuedBackfillPart } from './claimed-plan.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { runPools } from '../../model/config/concurrency-pools.ts';

/** Options a queued backfill's runs carry (as `assets backfill` takes them). */
export interface QueuedBackfillOptions {
  readonly fullRefresh?: boolean;
  readonly force?: readonly string[];
  readonly concurrency?: number;
  /** The `--vars` of the project it was planned on (see `queuedDbtVars`). */
  readonly dbtVars?: Readonly<Record<string, unknown>>;
}

/** A queued backfill: its record and the runs queued for it. */
export interface QueuedBackfill {
  readonly backfill: BackfillRecord;
  readonly runs: readonly RunRecord[];
  /** True when steps read partitions of other steps' partitions, so the plan could not be cut by partition. */
  readonly oneRun: boolean;
}

/**
 * Plans `request` (refusing bad input), records the backfill and queues its runs; nothing runs.
 * A plan with nothing to do records a backfill that already succeeded.
 *
 * @example
 * const { backfill, runs } = await enqueueBackfill({ project, storage, landing, now }, request, {});
 */
export async function enqueueBackfill(env: BackfillPlanEnvironment, request: BackfillRequest, options: QueuedBackfillOptions): Promise<QueuedBackfill> {
  const plan = await planBackfill(env, request);
  const id = request.id ?? randomUUID();
  const record = newBackfillRecord(id, request, countPartitions(plan));
  const base = { ...request, now: env.now.getTime(), options: { ...options, ...queuedDbtVars(env.project.config) }, graph: env.project.graph };
  const runs = runsOf(record, plan, base, []);
  const backfill: BackfillRecord = { ...record, runIds: runs.map((r) => r.id), ...(runs.length === 0 ? { status: 'success' as const } : {}) };
  await env.storage.createBackfill(backfill);
  for (const run of runs) await env.storage.createRun(run);
  return { backfill, runs, oneRun: runs.length === 1 && spansPartitions(plan) };
}

/**
 * Queues again what a queued backfill's failed or canceled runs did not commit, as new runs that
 * take them over; a backfill with runs still queued or running is refused (its workers are on
 * it). Returns the runs queued (none when everything was committed: the backfill succeeded).
 */
export async function requeueBackfill(
  env: Pick<BackfillPlanEnvironment, 'project' | 'storage'>,
  stored: BackfillRecord,
  keys: readonly string[],
): Promise<QueuedBackfill> {
  const { storage } = env;
  if (stored.status === 'success') throw new StrataError('backfill_done', `backfill ${stored.id.slice(0, 8)} already succeeded: nothing to resume`);
  const state = await queuedBackfillState(storage, stored);
  const going = state.current.filter((run) => run.status === 'queued' || run.status === 'running');
  if (going.length > 0) {
    throw new StrataError(
      'backfill_busy',
      `backfill ${stored.id.slice(0, 8)} still has ${going.length} run${going.length === 1 ? '' : 's'} queued or running: workers are on it (see assets backfills)`,
    );
  }
  const ended = state.current.filter((run) => run.status === 'failed' || run.status === 'canceled');
  const left = new Set(ended.flatMap(partsOf).filter((part) => !state.committed.has(part)));
  const first = state.runs[0]?.request as QueuedBackfillPart | undefined;
  if (first === undefined) throw new StrataError('backfill_not_queued', `backfill ${stored.id.slice(0, 8)} has no queued runs to resume`);
  const plan = buildPlan(env.project.graph, keys, {
    now: new Date(first.now),
    partitions: { from: stored.from, to: stored.to },
    grouping: stored.grouping,
    skip: (key, partition) => !left.has(partitionId(key, partition)),
  });
  const base = {
    selection: stored.selection,
    from: stored.from,
    to: stored.to,
    grouping: stored.grouping,
    now: first.now,
    options: optionsOf(first),
    graph: env.project.graph,
  };
  const runs = runsOf(
    stored,
    plan,
    base,
    ended.map((run) => run.id),
  );
  await storage.updateBackfill(stored.id, { status: 'running', error: null, updatedAt: Date.now() });
  for (const run of runs) await storage.createRun(run);
  const backfill = (await refreshQueuedBackfill(storage, stored.id)) ?? stored;
  return { backfill, runs, oneRun: runs.length === 1 && spansPartitions(plan) };
}

/** What every run of one queued backfill shares. */
interface RunBase {
  readonly selection: string;
  readonly from: string;
  readonly to: string;
  readonly grouping: BackfillRecord['grouping'];
  readonly now: number;
  readonly options: QueuedBackfillOptions;
  /** The project's graph: each run holds the pools of its assets. */
  readonly graph: AssetGraph;
}

/** One queued run per group of steps tied by waits, in plan order; each takes over `resumes`. */
function runsOf(backfill: BackfillRecord, plan: Plan, base: RunBase, resumes: readonly string[]): RunRecord[] {
  const createdAt = Date.now();
  return connectedSteps(plan).map((steps, i) => {
    const request: QueuedBackfillPart = {
      kind: 'backfill',
      backfill: backfill.id,
      select: base.selection,
      from: base.from,
      to: base.to,
      grouping: base.grouping,
      parts: steps.flatMap((step) => (step.partitions ?? [null]).map((p) => partitionId(step.key, p))),
      now: base.now,
      ...(resumes.length > 0 ? { resumes } : {}),
      ...(base.options.fullRefresh ? { fullRefresh: true, force: base.options.force ?? [] } : {}),
      ...(base.options.concurrency === undefined ? {} : { concurrency: base.options.concurrency }),
      ...(base.options.dbtVars === undefined ? {} : { dbtVars: base.options.dbtVars }),
    };
    const partitions = [...new Set(steps.flatMap((s) => s.partitions ?? []))].sort();
    const range = partitions.length === 0 ? '' : partitions.length === 1 ? partitions[0] : `${partitions[0]}..${partitions.at(-1)}`;
    const assetKeys = [...new Set(steps.map((s) => s.key))];
    return {
      id: randomUUID(),
      status: 'queued',
      trigger: 'backfill',
      selection: base.selection,
      assetKeys,
      // In plan order: the queue is claimed oldest first (by time, then id).
      createdAt: createdAt + i,
      startedAt: null,
      endedAt: null,
      error: null,
      tags: { backfill: backfill.id, range: range || `${base.from}..${base.to}` },
      request: request as unknown as Readonly<Record<string, unknown>>,
      pools: runPools(base.graph, assetKeys),
    };
  });
}

/**
 * The plan's steps in groups tied by waits or writing the same partitions (connected components),
 * each in plan order, groups by their first step.
 */
function connectedSteps(plan: Plan): PlanStep[][] {
  const index = new Map(plan.steps.map((step, i) => [step.id, i]));
  const parent = plan.steps.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] as number;
    for (let j = i; parent[j] !== r; ) {
      const next = parent[j] as number;
      parent[j] = r;
      j = next;
    }
    return r;
  };
  // Steps of the same partitions share a run (one run per partition, not per asset partition).
  const samePartitions = new Map<string, number>();
  plan.steps.forEach((step, i) => {
    for (const id of step.waitsFor) {
      const j = index.get(id);
      if (j !== undefined) parent[root(i)] = root(j);
    }
    const partitions = JSON.stringify(step.partitions);
    const j = samePartitions.get(partitions);
    if (j === undefined) samePartitions.set(partitions, i);
    else parent[root(i)] = root(j);
  });
  const groups = new Map<number, PlanStep[]>();
  plan.steps.forEach((step, i) => {
    const r = root(i);
    const group = groups.get(r) ?? [];
    if (group.length === 0) groups.set(r, group);
    group.push(step);
  });
  return [...groups.values()];
}

/** True when the plan writes more than one partition (so one run for it means partitions depend on each other). */
function spansPartitions(plan: Plan): boolean {
  return new Set(plan.steps.flatMap((s) => s.partitions ?? [])).size > 1;
}

function optionsOf(request: QueuedBackfillPart): QueuedBackfillOptions {
  return {
    ...(request.fullRefresh ? { fullRefresh: true } : {}),
    ...(request.force ? { force: request.force } : {}),
    ...(request.concurrency === undefined ? {} : { concurrency: request.concurrency }),
    ...(request.dbtVars === undefined ? {} : { dbtVars: request.dbtVars }),
  };
}
