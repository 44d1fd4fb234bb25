/**
 * Queued runs: `assets materialize --queue` plans a materialization (so bad input is refused
 * at once) and records it as a `queued` run with its request (selection, partition, options,
 * the plan's clock, the dbt `--vars`), without a warehouse; a worker claims it (see ./run-worker.ts) and runs it here, planning it
 * again from the request with the same clock, through the run service.
 */
import { randomUUID } from 'node:crypto';
import type { Plan } from '../../model/planning/plan.ts';
import type { AssetGraph } from '../../model/graph/asset-graph.ts';
import { runPools } from '../../model/config/concurrency-pools.ts';
import { fullRefreshRequest } from '../execution/full-refresh-request.ts';
import { RunEvents } from '../execution/run-events.ts';
import { RunHeartbeat } from '../execution/run-heartbeat.ts';
import { DEFAULT_HEARTBEAT } from '../../model/config/heartbeat-settings.ts';
import { systemTiming } from '../../model/run-timing.ts';
import { CanceledError, messageOf } from '../execution/step-helpers.ts';
import type { RunResult } from '../execution/executor.ts';
import { runEnded, type BackfillRecord, type EventRecord, type RunRecord, type RunTrigger, type Storage } from '../../../storage/storage.ts';
import type { RunService } from './run-service.ts';
import { CanceledBackfillError, planClaimed, type QueuedMaterialization } from './claimed-plan.ts';
import { keyOfPart, partsOf, queuedBackfillOf, refreshQueuedBackfill } from '../execution/queued-backfill-progress.ts';
import { backfillDoneEvent } from '../execution/backfill-runner.ts';

export type { QueuedMaterialization } from './claimed-plan.ts';

/** What a queued run is recorded as, besides its request. */
export interface EnqueueOptions {
  /** The project's graph: the run's pools are those of its assets. */
  readonly graph: AssetGraph;
  /** Default: a new UUID. */
  readonly runId?: string;
  /** Default `manual`. */
  readonly trigger?: RunTrigger;
  /** Default: the partition, if any. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Records `request`, planned as `plan` (the caller refused bad input while planning it), as a
 * queued run for a worker to claim, with the pools of its assets; nothing runs. Returns the run.
 */
export async function enqueueMaterialization(
  storage: Storage,
  request: Omit<QueuedMaterialization, 'kind'>,
  plan: Plan,
  options: EnqueueOptions,
): Promise<RunRecord> {
  const assetKeys = [...new Set(plan.steps.map((s) => s.key))];
  const run: RunRecord = {
    id: options.runId ?? randomUUID(),
    status: 'queued',
    trigger: options.trigger ?? 'manual',
    selection: request.select,
    assetKeys,
    createdAt: Date.now(),
    startedAt: null,
    endedAt: null,
    error: null,
    tags: options.tags ?? (request.partition === undefined ? {} : { partition: request.partition }),
    request: { kind: 'materialize', ...request },
    pools: runPools(options.graph, assetKeys),
  };
  await storage.createRun(run);
  return run;
}

/**
 * Runs a run a worker claimed (already `running` in storage) through `service`. A request this
 * Strata cannot read, or one that no longer plans (the project changed since it was queued),
 * fails the run with the reason; so does anything that stops it before its steps run.
 */
export async function runClaimed(
  service: RunService,
  run: RunRecord,
  signal: AbortSignal,
): Promise<RunResult | { runId: string; status: 'failed' | 'canceled'; error: string }> {
  // From the claim on, even while it waits for the warehouse another process holds: else it would look dead.
  const settings = { ...DEFAULT_HEARTBEAT, ...service.project.config.heartbeat };
  const heartbeat = new RunHeartbeat({ storage: await service.storage(), runId: run.id, timing: systemTiming, ...settings });
  heartbeat.start();
  // A run reaped as dead while it was alive (a host too busy to beat in time) stops, its steps
  // going on rolled back: its retry is queued and will do its work.
  const reaped = new AbortController();
  let reapedAs: RunRecord | undefined;
  const watch = setInterval(
    () =>
      void stopIfReaped(service, run.id, reaped).then((record) => {
        reapedAs ??= record;
      }),
    settings.intervalMs,
  );
  const stop = AbortSignal.any([signal, reaped.signal]);
  const backfillId = queuedBackfillOf(run);
  try {
    const { request, project, plan, keys, resumed, resumes } = await planClaimed(service, run, stop);
    const { fullRefresh, forcedSnapshots } = fullRefreshRequest(project, keys, {
      ...(request.fullRefresh ? { fullRefresh: true } : {}),
      ...(request.force ? { force: request.force } : {}),
    });
    if (resumed > 0) {
      const runs = resumes.map((id) => id.slice(0, 8)).join(', ');
      service.notice(`run ${run.id.slice(0, 8)} resumes ${runs}: ${resumed} asset partition${resumed === 1 ? '' : 's'} committed there left out`);
    }
    const result = await service.materialize(
      {
        plan,
        project,
        runId: run.id,
        claimed: true,
        selection: run.selection,
        now: new Date(request.now),
        fullRefresh,
        forcedSnapshots,
        tags: run.tags,
        // The last look before a step publishes: a run reaped since the last heartbeat publishes nothing more.
        beforePublish: async () => {
          reapedAs ??= await stopIfReaped(service, run.id, reaped);
          if (reaped.signal.aborted) throw new CanceledError();
        },
        ...(request.kind === 'materialize' && request.partitions !== undefined ? { onLeaseConflict: 'skip' as const } : {}),
        ...(request.concurrency === undefined ? {} : { concurrency: request.concurrency }),
      },
      stop,
    );
    // The run ended as its reaper recorded it (failed, with why), not canceled by this process.
    if (reapedAs !== undefined) await (await service.storage()).updateRun(run.id, { status: reapedAs.status, error: reapedAs.error });
    return reapedAs === undefined ? result : { ...result, status: reapedAs.status, ...(reapedAs.error === null ? {} : { error: reapedAs.error }) };
  } catch (error) {
    const message = messageOf(error);
    const status = error instanceof CanceledBackfillError ? 'canceled' : 'failed';
    const ended = await endUnstarted(await service.storage(), run.id, message, status);
    if (ended !== undefined) service.observe(ended);
    return { runId: run.id, status, error: message };
  } finally {
    clearInterval(watch);
    await heartbeat.stop();
    // The backfill's progress is worked out again from storage by the next run that ends: a failure here is only news.
    if (backfillId !== undefined) {
      const ended = (backfill: BackfillRecord) => service.observe(backfillDoneEvent(backfill, run.id, [...new Set(partsOf(run).map(keyOfPart))]));
      await refreshQueuedBackfill(await service.storage(), backfillId, ended).catch((error: unknown) =>
        service.notice(`backfill ${backfillId.slice(0, 8)}: its progress could not be updated: ${messageOf(error)}`),
      );
    }
  }
}

/** Aborts `controller` when run `runId` is no longer running in storage (reaped by another process); returns the run then. */
async function stopIfReaped(service: RunService, runId: string, controller: AbortController): Promise<RunRecord | undefined> {
  if (controller.signal.aborted) return undefined;
  try {
    const now = await (await service.storage()).getRun(runId);
    if (now?.status !== 'failed' && now?.status !== 'canceled') return undefined;
    service.notice(`run ${runId.slice(0, 8)} was marked ${now.status} by another process (${now.error ?? 'no reason given'}): stopping it`);
    controller.abort();
    return now;
  } catch {
    return undefined; // the next look tries again
  }
}

/**
 * Marks a claimed run that did not end failed (or canceled), with its `run_failure`
 * (`run_canceled`) event naming the run's asset `keys`; resolves that event, or `undefined` when
 * the run had ended.
 */
async function endUnstarted(storage: Storage, runId: string, message: string, status: 'failed' | 'canceled'): Promise<EventRecord | undefined> {
  const now = await storage.getRun(runId);
  if (now === undefined || runEnded(now.status)) return undefined;
  await storage.updateRun(runId, { status, endedAt: Date.now(), error: message });
  const data = { keys: [...now.assetKeys] };
  const event =
    status === 'failed'
      ? new RunEvents(runId).run('run_failure', `run could not start: ${message}`, 'error', data)
      : new RunEvents(runId).run('run_canceled', `run canceled: ${message}`, 'warn', data);
  await storage.appendEvents([event]);
  await storage.releaseLeases(runId);
  return event;
}
