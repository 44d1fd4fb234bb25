import type { Express, Response } from 'express';
import { z } from 'zod';
import { resolveBackfillKeys } from '../core/engine/execution/backfill-runner.ts';
import type { LandingZone } from '../core/model/definitions/asset-context.ts';
import { API_REFRESH_ARGUMENTS, fullRefreshRequest } from '../core/engine/execution/full-refresh-request.ts';
import { prepareMaterialization } from '../core/engine/execution/materialize-request.ts';
import { StrataError, UsageError, withArgument } from '../core/model/errors.ts';
import { isCalendarTime } from '../core/model/planning/partition-request.ts';
import type { Project } from '../core/model/project.ts';
import { selectAssets } from '../core/model/selection/index.ts';
import { runEnded, type BackfillRecord, type Storage } from '../storage/storage.ts';
import { pickByPrefix } from '../core/model/collections/pick-by-prefix.ts';
import { idParams, parseParams } from './api-params.ts';
import { HttpError } from './api-error-handler.ts';
import { readJsonBody } from './request-body.ts';
import type { RunLauncher } from '../core/engine/runs/run-launcher.ts';
import { enqueueMaterialization } from '../core/engine/runs/queued-runs.ts';
import { queuedDbtVars } from '../core/engine/runs/claimed-plan.ts';
import { enqueueBackfill } from '../core/engine/runs/queued-backfills.ts';
import { cancelQueued } from '../core/engine/runs/queued-run-cancel.ts';

/** What the mutation routes use. */
export interface MutationContext {
  readonly project: Project;
  readonly storage: () => Promise<Storage>;
  readonly landing: LandingZone;
  readonly launcher: RunLauncher;
  readonly now: () => Date;
  readonly send: (res: Response, body: unknown, status?: number) => void;
  /** Queue runs in storage for `assets worker` instead of launching them here. */
  readonly queue: boolean;
}

const text = (max: number) => z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(max, 'is too long');
const flag = z.boolean({ error: 'must be true or false' });
/** Snapshots a full refresh may rebuild, dropping their history (the CLI's `--force`). */
const force = z.array(text(400), { error: 'must be a list of asset keys' }).max(1000, 'names too many assets').optional();
const runBody = z.object({ select: text(2000), partition: text(200).optional(), staleOnly: flag.optional(), fullRefresh: flag.optional(), force }).strict();
const BACKFILL_MODES = { all: 'all', missing: 'missing_only', stale: 'stale_only' } as const satisfies Record<string, BackfillRecord['mode']>;
const backfillBody = z
  .object({
    select: text(2000),
    from: text(100),
    to: text(100),
    mode: z.enum(['all', 'missing', 'stale'], { error: 'must be all, missing or stale' }).default('all'),
    perPartition: flag.optional(),
    fullRefresh: flag.optional(),
    force,
  })
  .strict();
const runIdParams = idParams('run');
const backfillIdParams = idParams('backfill');
const noQuery = z.object({}).strict();

/**
 * The routes that launch work, and the one that follows a backfill:
 *
 * - `POST /api/runs` `{ select, partition?, staleOnly?, fullRefresh?, force? }` → 202 `{ runId, steps }`,
 *   or 200 `{ runId: null, steps: 0, message }` when there is nothing to do; with `queue`, the
 *   run is recorded as queued for a worker and the answer says `queued: true`
 * - `POST /api/backfills` `{ select, from, to, mode?: all|missing|stale, perPartition?, fullRefresh?, force? }` → 202 `{ backfillId }`;
 *   with `queue`, the backfill is recorded and its runs queued for workers: 202 `{ backfillId, runIds, queued: true }`
 * - `fullRefresh: true` rebuilds incremental assets from scratch; a selection with snapshots is
 *   refused (400 naming them) unless `force` lists each, as `--full-refresh --force` on the CLI
 * - `GET /api/backfills/ID` (a unique prefix works) → `{ backfill, runs }`
 * - `POST /api/runs/ID/cancel` → 202 for a run of this server, a run queued for workers that
 *   none has claimed yet, or a backfill's run (wherever it runs); 409 for an ended run or a
 *   plain run of another process
 * - `POST /api/backfills/ID/cancel` → 202 for a running backfill, 409 for an ended one
 *
 * Every request is checked before anything is written; errors name the body field at fault.
 */
export function mountMutationRoutes(app: Express, ctx: MutationContext): void {
  const { project } = ctx;

  app.post('/api/runs', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const body = await readJsonBody(req, runBody);
    const now = ctx.now();
    const partition: { partition?: string } = body.partition === undefined ? {} : { partition: body.partition };
    const prepared = await prepareMaterialization(
      { project, storage: ctx.storage, landing: ctx.landing, now, partitionArgument: 'partition' },
      { select: body.select, staleOnly: body.staleOnly === true, ...partition },
    );
    const refresh = fullRefreshRequest(project, prepared.keys, refreshOptions(body), API_REFRESH_ARGUMENTS);
    if (prepared.plan.steps.length === 0) {
      const built = prepared.keys.filter((k) => !project.graph.spec(k).source).length;
      const why =
        built === 0
          ? 'the selection has only source assets, which are observed, not materialized'
          : `the ${built} selected asset${built === 1 ? ' is' : 's are'} fresh`;
      ctx.send(res, { runId: null, steps: 0, message: `Nothing to do: ${why} (${body.select})` });
      return;
    }
    if (ctx.queue) {
      const request = {
        select: body.select,
        ...partition,
        ...(body.staleOnly ? { staleOnly: true } : {}),
        ...(refresh.fullRefresh ? { fullRefresh: true, force: refresh.forcedSnapshots } : {}),
        now: now.getTime(),
        ...queuedDbtVars(project.config),
      };
      const tags = { launched_by: 'ui', ...partition };
      const run = await enqueueMaterialization(await ctx.storage(), request, prepared.plan, { graph: project.graph, tags });
      ctx.send(res, { runId: run.id, steps: prepared.plan.steps.length, queued: true }, 202);
      return;
    }
    const runId = ctx.launcher.launchRun({
      plan: prepared.plan,
      selection: body.select,
      trigger: 'manual',
      now,
      refresh,
      tags: { launched_by: 'ui', ...partition },
    });
    ctx.send(res, { runId, steps: prepared.plan.steps.length }, 202);
  });

  app.post('/api/backfills', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const body = await readJsonBody(req, backfillBody);
    const now = ctx.now();
    const keys = checkBackfill(project, body, now);
    const refresh = fullRefreshRequest(project, keys, refreshOptions(body), API_REFRESH_ARGUMENTS);
    const request = {
      selection: body.select,
      keys,
      from: body.from,
      to: body.to,
      mode: BACKFILL_MODES[body.mode],
      grouping: body.perPartition ? 'per_partition' : 'policy',
    } as const;
    if (ctx.queue) {
      const options = refresh.fullRefresh ? { fullRefresh: true, force: refresh.forcedSnapshots } : {};
      const { backfill, runs } = await enqueueBackfill({ project, storage: await ctx.storage(), landing: ctx.landing, now }, request, options);
      ctx.send(res, { backfillId: backfill.id, runIds: runs.map((r) => r.id), queued: true }, 202);
      return;
    }
    const backfillId = ctx.launcher.launchBackfill(request, now, refresh);
    ctx.send(res, { backfillId }, 202);
  });

  app.post('/api/runs/:id/cancel', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { id } = parseParams(runIdParams, req.params, 'path');
    const run = ctx.launcher.pendingRun(id) ?? pickByPrefix(await (await ctx.storage()).findRunsByPrefix(id), id, 'run', 'id');
    if (runEnded(run.status)) throw new HttpError(409, 'run_ended', `run ${run.id.slice(0, 8)} has already ended (${run.status})`);
    if (ctx.launcher.cancel(run.id)) {
      ctx.send(res, { runId: run.id, canceling: true }, 202);
      return;
    }
    // A run queued for workers that none has claimed yet is canceled where it waits, in storage.
    if (await cancelQueued(await ctx.storage(), run)) {
      ctx.send(res, { runId: run.id, canceling: true }, 202);
      return;
    }
    // A backfill's run in another process stops when it sees its backfill canceled.
    const backfillId = run.tags.backfill;
    if (backfillId !== undefined) {
      await cancelStoredBackfill(ctx, backfillId);
      ctx.send(res, { runId: run.id, canceling: true }, 202);
      return;
    }
    const where = run.pid === null || run.pid === undefined ? 'another process' : `process ${run.pid}`;
    throw new HttpError(409, 'not_cancelable', `run ${run.id.slice(0, 8)} runs in ${where}, not in this UI: stop it there (Ctrl-C)`);
  });

  app.post('/api/backfills/:id/cancel', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { id } = parseParams(backfillIdParams, req.params, 'path');
    const backfill = ctx.launcher.pendingBackfill(id) ?? pickByPrefix(await (await ctx.storage()).findBackfillsByPrefix(id), id, 'backfill', 'id');
    if (backfill.status !== 'running') throw new HttpError(409, 'backfill_ended', `backfill ${backfill.id.slice(0, 8)} has already ended (${backfill.status})`);
    // This process's backfill stops at once; one of another process within seconds, when its
    // runner sees the stored status.
    if (!ctx.launcher.cancel(backfill.id)) await cancelStoredBackfill(ctx, backfill.id);
    ctx.send(res, { backfillId: backfill.id, canceling: true }, 202);
  });

  app.get('/api/backfills/:id', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { id } = parseParams(backfillIdParams, req.params, 'path');
    const pending = ctx.launcher.pendingBackfill(id);
    if (pending) {
      ctx.send(res, { backfill: pending, runs: [] });
      return;
    }
    const storage = await ctx.storage();
    const backfill = pickByPrefix(await storage.findBackfillsByPrefix(id), id, 'backfill', 'id');
    const runs = (await Promise.all(backfill.runIds.map((runId) => storage.getRun(runId)))).filter((r) => r !== undefined);
    ctx.send(res, { backfill, runs });
  });
}

/**
 * The selected keys of a backfill request, or an error naming `select`, `from` or `to`: dates
 * are checked here with the API's words, the rest by the same code as `assets backfill`.
 */
function checkBackfill(project: Project, body: { select: string; from: string; to: string }, now: Date): readonly string[] {
  const { keys } = selectAssets(project.graph, body.select);
  if (keys.some((key) => project.graph.spec(key).partitions?.type === 'time_window')) {
    for (const field of ['from', 'to'] as const) {
      if (!isCalendarTime(body[field]))
        throw new UsageError(`body field "${field}" must be a date (YYYY-MM-DD) or an hourly key (YYYY-MM-DD-HH:mm), got "${body[field].slice(0, 80)}"`, field);
    }
    if (body.from > body.to) throw new UsageError(`the range starts after it ends: "from" ${body.from} is after "to" ${body.to}`, 'from');
  }
  try {
    return resolveBackfillKeys(project, body.select, body, now, 'select');
  } catch (error) {
    if (!(error instanceof StrataError) || error.code !== 'partition_invalid') throw error;
    throw withArgument(error, error.context.partition === body.to && body.to !== body.from ? 'to' : 'from');
  }
}

/** The full-refresh fields of a request body, as {@link fullRefreshRequest} reads them. */
function refreshOptions(body: { readonly fullRefresh?: boolean | undefined; readonly force?: readonly string[] | undefined }) {
  return { fullRefresh: body.fullRefresh === true, ...(body.force === undefined ? {} : { force: body.force }) };
}

/** Marks a stored backfill canceled: the process running it stops within seconds. */
async function cancelStoredBackfill(ctx: MutationContext, id: string): Promise<void> {
  const storage = await ctx.storage();
  const backfill = await storage.getBackfill(id);
  if (backfill?.status === 'running') await storage.updateBackfill(id, { status: 'canceled', updatedAt: Date.now() });
}
