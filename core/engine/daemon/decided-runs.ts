/**
 * The runs a daemon tick decides on: one per schedule tick whose partitions are not already in
 * flight (with a dbt microbatch model's lookback batches), and one for everything the assets'
 * automation conditions request. Each decision (run requested, or skipped and why) is pushed
 * onto the tick's list.
 */
import { randomUUID } from 'node:crypto';
import { partitionId } from '../../model/definitions/asset-key.ts';
import { runPools } from '../../model/config/concurrency-pools.ts';
import type { Project } from '../../model/project.ts';
import { computeStaleness } from '../../model/staleness/compute-staleness.ts';
import type { StalenessReport } from '../../model/staleness/stale-partition.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import type { RunTrigger, Storage } from '../../../storage/storage.ts';
import { partitionIds, splitInFlight, tickTargets, type AssetPartitions } from './asset-partitions.ts';
import { evaluateAutomation } from './automation-evaluation.ts';
import { evaluateSchedules } from './schedule-evaluation.ts';
import { withMicrobatchLookback } from './microbatch-lookback.ts';

/** Run tag marking a daemon run that retries failed attempts (its own failures are not retried). */
export const RETRY_TAG = 'strata/retry';

/** A run the daemon decided on, before it is launched. */
export interface DecidedRun {
  readonly runId: string;
  readonly trigger: Extract<RunTrigger, 'schedule' | 'automation'>;
  /** The selection recorded on the run. */
  readonly selection: string;
  readonly partitions: AssetPartitions;
  /** Pools the run holds a slot of while it runs. */
  readonly pools: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** The tick's clock: which partitions exist for the plan. */
  readonly now: Date;
}

/** What deciding a tick's runs reads, and where it writes its decisions. */
export interface RunDecision {
  readonly project: Project;
  readonly storage: Storage;
  /** The tick's clock. */
  readonly now: Date;
  /** Asset partitions queued or running, by `key@partition`, with the run's id. */
  readonly inFlight: ReadonlyMap<string, string>;
  /** The tick's decisions, added to. */
  readonly decisions: TickDecision[];
}

/**
 * The runs the schedules' due ticks request (partitions already in flight are skipped), and the
 * schedules' new cursors. Each run's partitions are added to `inFlight`.
 */
export async function decideScheduleRuns(
  decision: RunDecision & { readonly inFlight: Map<string, string> },
): Promise<{ runs: DecidedRun[]; cursors: Record<string, string> }> {
  const { project, storage, now, inFlight, decisions } = decision;
  const runs: DecidedRun[] = [];
  const schedules = evaluateSchedules({ schedules: project.schedules, graph: project.graph, cursors: await storage.daemonCursors(), now });
  decisions.push(...schedules.decisions);
  for (const request of schedules.requests) {
    const { schedule } = request;
    const { free, busy } = splitInFlight(withMicrobatchLookback(project, request.partitions, now), inFlight);
    for (const [runId, partitions] of busy) {
      decisions.push({
        source: 'schedule',
        name: schedule.name,
        action: 'skipped',
        reason: `already queued or running in run ${runId.slice(0, 8)}`,
        targets: tickTargets(partitions),
        tickTime: request.tickTime.getTime(),
      });
    }
    if (free.size === 0) continue;
    const run = decidedRun(project, 'schedule', schedule.selection, free, now, {
      'strata/schedule': schedule.name,
      'strata/tick': request.tickTime.toISOString(),
      ...schedule.tags,
    });
    for (const id of partitionIds(free)) inFlight.set(id, run.runId);
    runs.push(run);
    decisions.push({
      source: 'schedule',
      name: schedule.name,
      action: 'requested',
      reason: `cron tick ${request.tickTime.toISOString()} (${schedule.cron} ${schedule.timezone})`,
      targets: tickTargets(free),
      runId: run.runId,
      tickTime: request.tickTime.getTime(),
    });
  }
  return { runs, cursors: { ...schedules.cursors } };
}

/** Evaluates the automation conditions and returns the run for what they request, if anything. */
export async function decideAutomationRun(decision: RunDecision): Promise<DecidedRun | undefined> {
  const { project, storage, now, inFlight, decisions } = decision;
  const automated = project.graph.keys.filter((k) => project.graph.spec(k).automation && !project.graph.spec(k).source);
  if (automated.length === 0) return undefined;
  const parents = new Set(automated.flatMap((k) => project.graph.parents(k)));
  // Seeds declare no condition; those that automated assets read are evaluated with them.
  const seeds = new Set([...parents].filter((k) => project.definitions.get(k)?.compute.type === 'seed'));
  const report = await computeStaleness({ project, storage, keys: [...seeds, ...automated], now });
  const latest = new Map<string, number>();
  for (const m of await storage.latestMaterializations([...new Set([...automated, ...parents])])) latest.set(partitionId(m.assetKey, m.partition), m.timestamp);
  const retryRuns = await retriesAmongFailed(storage, report);
  const evaluation = evaluateAutomation({ graph: project.graph, report, latest, inFlight, now, seeds, retryable: (runId) => !retryRuns.has(runId) });
  if (evaluation.requested.size === 0) {
    decisions.push(...evaluation.decisions);
    return undefined;
  }
  const keys = [...evaluation.requested.keys()];
  const run = decidedRun(project, 'automation', keys.join(', '), evaluation.requested, now, {
    'strata/automation': 'true',
    ...(evaluation.retry ? { [RETRY_TAG]: 'true' } : {}),
  });
  decisions.push(...evaluation.decisions.map((d) => (d.action === 'requested' ? { ...d, runId: run.runId } : d)));
  return run;
}

/** Ids of the failed runs in `report` that were themselves retries. */
async function retriesAmongFailed(storage: Storage, report: StalenessReport): Promise<Set<string>> {
  const failedRuns = new Set(report.stale.flatMap((s) => s.reasons.flatMap((r) => (r.kind === 'failed' ? [r.runId] : []))));
  const retries = new Set<string>();
  for (const runId of failedRuns) {
    const run = await storage.getRun(runId);
    if (run?.tags[RETRY_TAG] === 'true') retries.add(runId);
  }
  return retries;
}

/** A new decided run with its id and the pools its assets take a slot of. */
function decidedRun(
  project: Project,
  trigger: DecidedRun['trigger'],
  selection: string,
  partitions: AssetPartitions,
  now: Date,
  tags: Record<string, string>,
): DecidedRun {
  const pools = runPools(project.graph, partitions.keys());
  return Object.freeze({ runId: randomUUID(), trigger, selection, partitions, pools, tags: Object.freeze(tags), now });
}
