/**
 * Queued runs: `assets materialize --queue` plans a materialization (so bad input is refused
 * at once) and records it as a `queued` run with its request (selection, partition, options,
 * the plan's clock), without a warehouse; a worker claims it (see ./run-worker.ts) and runs it here, planning it
 * again from the request with the same clock, through the run service.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../../model/errors.ts';
import type { Plan } from '../../model/planning/plan.ts';
import { prepareMaterialization } from '../execution/materialize-request.ts';
import { fullRefreshRequest } from '../execution/full-refresh-request.ts';
import { RunEvents } from '../execution/run-events.ts';
import { RunHeartbeat } from '../execution/run-heartbeat.ts';
import { DEFAULT_HEARTBEAT } from '../../model/config/heartbeat-settings.ts';
import { systemTiming } from '../../model/run-timing.ts';
import { messageOf } from '../execution/step-helpers.ts';
import type { RunResult } from '../execution/executor.ts';
import { runEnded, type RunRecord, type RunRequest, type Storage } from '../../../storage/storage.ts';
import type { RunService } from './run-service.ts';

/** What a queued materialization needs to run: the CLI's arguments, and the clock it was planned with. */
export interface QueuedMaterialization {
  readonly kind: 'materialize';
  readonly select: string;
  readonly partition?: string;
  readonly staleOnly?: boolean;
  readonly fullRefresh?: boolean;
  /** Snapshots a full refresh may drop and rebuild. */
  readonly force?: readonly string[];
  /** Steps at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** The plan's clock (epoch ms): which partitions exist. */
  readonly now: number;
}

/**
 * Records `request`, planned as `plan` (the caller refused bad input while planning it), as a
 * queued run for a worker to claim; nothing runs. Returns the run.
 */
export async function enqueueMaterialization(storage: Storage, request: Omit<QueuedMaterialization, 'kind'>, plan: Plan): Promise<RunRecord> {
  const run: RunRecord = {
    id: randomUUID(),
    status: 'queued',
    trigger: 'manual',
    selection: request.select,
    assetKeys: [...new Set(plan.steps.map((s) => s.key))],
    createdAt: Date.now(),
    startedAt: null,
    endedAt: null,
    error: null,
    tags: request.partition === undefined ? {} : { partition: request.partition },
    request: { kind: 'materialize', ...request },
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
): Promise<RunResult | { runId: string; status: 'failed'; error: string }> {
  // From the claim on, even while it waits for the warehouse another process holds: else it would look dead.
  const heartbeat = new RunHeartbeat({
    storage: await service.storage(),
    runId: run.id,
    timing: systemTiming,
    ...DEFAULT_HEARTBEAT,
    ...service.project.config.heartbeat,
  });
  heartbeat.start();
  try {
    const request = queuedMaterialization(run);
    const { project } = service;
    const { plan, keys } = await prepareMaterialization(
      { project, storage: () => service.storage(), landing: service.landing, now: new Date(request.now) },
      request,
    );
    const { fullRefresh, forcedSnapshots } = fullRefreshRequest(project, keys, {
      ...(request.fullRefresh ? { fullRefresh: true } : {}),
      ...(request.force ? { force: request.force } : {}),
    });
    return await service.materialize(
      {
        plan,
        runId: run.id,
        claimed: true,
        selection: run.selection,
        now: new Date(request.now),
        fullRefresh,
        forcedSnapshots,
        tags: run.tags,
        ...(request.concurrency === undefined ? {} : { concurrency: request.concurrency }),
      },
      signal,
    );
  } catch (error) {
    const message = messageOf(error);
    await failUnfinished(await service.storage(), run.id, message);
    return { runId: run.id, status: 'failed', error: message };
  } finally {
    await heartbeat.stop();
  }
}

/** Marks a claimed run that did not end failed, with its `run_failure` event. */
async function failUnfinished(storage: Storage, runId: string, message: string): Promise<void> {
  const now = await storage.getRun(runId);
  if (now === undefined || runEnded(now.status)) return;
  await storage.updateRun(runId, { status: 'failed', endedAt: Date.now(), error: message });
  await storage.appendEvents([new RunEvents(runId).run('run_failure', `run could not start: ${message}`, 'error')]);
  await storage.releaseLeases(runId);
}

/** The queued materialization a run's request describes (a UsageError for one this Strata does not know). */
function queuedMaterialization(run: RunRecord): QueuedMaterialization {
  const request: RunRequest | null | undefined = run.request;
  if (request?.kind !== 'materialize' || typeof request.select !== 'string' || typeof request.now !== 'number') {
    throw new UsageError(`run ${run.id} was queued with a request this Strata cannot read: ${JSON.stringify(request ?? null)}`);
  }
  return request as unknown as QueuedMaterialization;
}
