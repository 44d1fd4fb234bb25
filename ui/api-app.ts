import { loopbackHostsOnly } from './host-check.ts';
import { pickByPrefix } from '../core/model/collections/pick-by-prefix.ts';
import { realpathSync } from 'node:fs';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../core/model/errors.ts';
import type { Project } from '../core/model/project.ts';
import type { RunStatus, Storage } from '../storage/storage.ts';
import { apiErrorHandler } from './api-error-handler.ts';
import { idParams, intParam, pageParams, parseParams } from './api-params.ts';
import { assetHistory, assetPartitions } from './asset-history-view.ts';
import { describeAsset, listAssets, unknownAsset } from './asset-views.ts';
import { lineageOf } from './lineage-view.ts';
import { columnLineageView } from './column-lineage-view.ts';
import { assetSchema } from './schema-view.ts';
import { redactPaths } from './redact-paths.ts';
import { securityHeaders } from './security-headers.ts';
import { staticPages } from './static-pages.ts';
import { AssetListCache } from './asset-list-cache.ts';
import { EventStream } from './event-stream.ts';
import { mountMutationRoutes } from './mutation-routes.ts';
import { mutationGuard } from './mutation-guard.ts';
import { RunLauncher } from '../core/engine/runs/run-launcher.ts';
import { RunService } from '../core/engine/runs/run-service.ts';
import { projectRunObservers } from '../core/engine/runs/run-observers.ts';

/**
 * What the API reads: a loaded project and its storage (the CLI's workspace fits). The
 * API opens the project's DuckDB warehouse only while a run it launched is going on.
 */
export interface ApiWorkspace {
  readonly project: Project;
  storage(): Promise<Storage>;
}

/** Options of {@link createApiApp}. */
export interface ApiAppOptions {
  /** Where unexpected (HTTP 500) errors are reported; default `console.error` of their stack. */
  readonly log?: (error: unknown) => void;
  /** The clock (which time-window partitions exist); default: now, per request. */
  readonly now?: () => Date;
  /** Accept only requests addressed to this machine (default: true; see ./host-check.ts). */
  readonly loopbackOnly?: boolean;
  /**
   * True when the server listens on loopback only (default: `loopbackOnly`): then same-origin
   * requests (the UI page) may launch runs without a token. See ./mutation-guard.ts.
   */
  readonly loopbackBound?: boolean;
  /** A secret that lets `Authorization: Bearer TOKEN` requests launch runs (`assets ui --token`). */
  readonly token?: string | undefined;
  /** Where background news goes (dead runs reaped, waiting for the warehouse); default `console.error`. */
  readonly notice?: (message: string) => void;
  /** How often `/api/events` reads storage for runs of other processes (default 500 ms). */
  readonly eventPollMs?: number;
  /**
   * `POST /api/runs` queues the run in storage for `assets worker` instead of running it here
   * (`assets ui --queue`; needs Postgres storage, the caller checks).
   */
  readonly queue?: boolean;
}

/** The app and what stops its background work. */
export interface Api {
  readonly app: Express;
  /** Cancels the runs it launched and waits for them, then ends every event stream. */
  close(): Promise<void>;
}

const RUN_STATUSES = ['queued', 'running', 'success', 'failed', 'canceled'] as const satisfies readonly RunStatus[];

const assetListQuery = z.object({ select: z.string().trim().min(1, 'must not be empty').max(2000, 'is too long').optional() }).strict();
const assetKeyParams = z.object({ key: z.string().min(1, 'must not be empty').max(1000, 'is too long') }).strict();
const lineageQuery = z
  .object({
    depth: intParam(1, 1000).optional(),
    direction: z.enum(['up', 'down', 'both'], { error: 'must be up, down or both' }).default('both'),
  })
  .strict();
const columnLineageQuery = z.object({ column: z.string().min(1, 'must not be empty').max(1000, 'is too long').optional() }).strict();
const runsQuery = z
  .object({ ...pageParams(50, 500), status: z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` }).optional() })
  .strict();
const runIdParams = idParams('run');
const backfillsQuery = z.object(pageParams(50, 500)).strict();
const alertsQuery = z.object(pageParams(50, 500)).strict();
const noQuery = z.object({}).strict();
const historyQuery = z.object(pageParams(100, 1000)).strict();
const eventsQuery = z.object({ run: runIdParams.shape.id.optional() }).strict();

/**
 * The web UI: its pages (`GET /`, `/static/…`, see ./static-pages.ts) and the JSON API over a
 * project's definitions and storage:
 *
 * - `GET /api/assets?select=SELECTION` — assets with kinds, group, deps, state, stale count
 * - `GET /api/assets/KEY` — one asset, its checks summed up (the key's `/` are path separators: `/api/assets/marts/fct_sales`;
 *   `%2F` works too)
 * - `GET /api/lineage/KEY?depth=N&direction=up|down|both` — nodes with depth, and edges
 * - `GET /api/column-lineage/KEY?column=COL` — the asset's columns with their upstream columns, and one column's path (./column-lineage-view.ts)
 * - `GET /api/history/KEY?limit=100&offset=0` — materializations and check results (with failing-row samples), newest first, a page at a time
 * - `GET /api/partitions/KEY` — every partition's state (fresh, stale, missing, failed) for the health bar
 * - `GET /api/runs?limit=&offset=&status=` and `GET /api/runs/ID` (a unique id prefix works) with events
 * - `GET /api/backfills?limit=&offset=` and `GET /api/backfills/ID`
 * - `GET /api/alerts?limit=&offset=` — the alert rules (no URLs) and recent alert deliveries, newest first, failures with their error
 * - `POST /api/runs` and `POST /api/backfills` launch work in this process (./mutation-routes.ts),
 *   allowed by ./mutation-guard.ts; with `queue`, runs are queued for `assets worker` instead
 * - `GET /api/events?run=ID` — Server-Sent Events about runs (./event-stream.ts)
 *
 * Bad parameters are HTTP 400 `{ error: { code, message, parameter } }`, unknown assets and
 * runs 404; no response carries a stack trace or the project's absolute folder.
 *
 * @example
 * const { app, close } = createApi(await Workspace.load({}));
 * const server = app.listen(3000, '127.0.0.1'); // later: await close(); server.close();
 */
export function createApi(workspace: ApiWorkspace, options: ApiAppOptions = {}): Api {
  const { project } = workspace;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((error: unknown) => console.error(error instanceof Error ? (error.stack ?? error.message) : error));
  const notice = options.notice ?? ((message: string) => console.error(message));
  const dirs = [project.config.dir, safeRealpath(project.config.dir)];
  const redact = <T>(value: T): T => redactPaths(value, dirs);
  const send = (res: Response, body: unknown, status = 200) => void res.status(status).json(redact(body));
  const storage = () => workspace.storage();
  const events = new EventStream({ storage, redact, onError: log, ...(options.eventPollMs === undefined ? {} : { pollMs: options.eventPollMs }) });
  // The warehouse is open only while a run launched here needs it.
  const service = new RunService({ project, storage, notice, observers: projectRunObservers(project, { storage, notice }) });
  const { landing } = service;
  const launcher = new RunLauncher({ service, reapFirst: true, listener: events });
  const assetCache = new AssetListCache();

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  const loopbackOnly = options.loopbackOnly ?? true;
  if (loopbackOnly) app.use(loopbackHostsOnly());
  app.use(staticPages());
  app.use('/api', mutationGuard({ token: options.token, loopbackBound: options.loopbackBound ?? loopbackOnly }));

  app.get('/api/assets', async (req, res) => {
    const { select } = parseParams(assetListQuery, req.query, 'query');
    const store = await storage();
    const at = now();
    send(res, { assets: await assetCache.get(store, select, at, () => listAssets(project, store, select, at)) });
  });

  app.get('/api/assets/*key', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    send(res, await describeAsset(project, await storage(), key, now()));
  });

  app.get('/api/lineage/*key', (req, res) => {
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    const { depth, direction } = parseParams(lineageQuery, req.query, 'query');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, lineageOf(project.graph, key, depth ?? Infinity, direction));
  });

  app.get('/api/column-lineage/*key', async (req, res) => {
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    const { column } = parseParams(columnLineageQuery, req.query, 'query');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, await columnLineageView(workspace, key, column));
  });

  app.get('/api/history/*key', async (req, res) => {
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    const { limit, offset } = parseParams(historyQuery, req.query, 'query');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, await assetHistory(await storage(), key, { limit, offset }));
  });

  app.get('/api/schema/*key', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, await assetSchema(await storage(), key));
  });

  app.get('/api/partitions/*key', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, await assetPartitions(project, await storage(), key, now()));
  });

  app.get('/api/runs', async (req, res) => {
    const { limit, offset, status } = parseParams(runsQuery, req.query, 'query');
    const stored = await (await storage()).listRuns({ limit, offset, ...(status ? { status } : {}) });
    // Runs this server accepted but has not started yet (waiting for the warehouse) come first.
    const queued =
      offset === 0 && (status === undefined || status === 'queued') ? launcher.pendingRuns().filter((r) => !stored.some((s) => s.id === r.id)) : [];
    send(res, { runs: [...queued, ...stored].slice(0, limit), limit, offset });
  });

  app.get('/api/runs/:id', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { id } = parseParams(runIdParams, req.params, 'path');
    const pending = launcher.pendingRun(id);
    if (pending) {
      send(res, { run: pending, events: [] });
      return;
    }
    const store = await storage();
    const run = pickByPrefix(await store.findRunsByPrefix(id), id, 'run', 'id');
    send(res, { run, events: await store.listEvents(run.id) });
  });

  app.get('/api/alerts', async (req, res) => {
    const { limit, offset } = parseParams(alertsQuery, req.query, 'query');
    const rules = project.alerts.map((rule) => ({ name: rule.name, on: rule.on, select: rule.select ?? null, targets: rule.targets.map((t) => t.type) }));
    send(res, { rules, deliveries: await (await storage()).listAlertDeliveries({ limit, offset }) });
  });

  app.get('/api/backfills', async (req, res) => {
    const { limit, offset } = parseParams(backfillsQuery, req.query, 'query');
    const stored = await (await storage()).listBackfills({ limit, offset });
    // Backfills this server accepted but has not started yet (waiting for the warehouse) come first.
    const waiting = offset === 0 ? launcher.pendingBackfills().filter((b) => !stored.some((s) => s.id === b.id)) : [];
    send(res, { backfills: [...waiting, ...stored].slice(0, limit), limit, offset });
  });

  mountMutationRoutes(app, { project, storage, landing, launcher, now, send, queue: options.queue === true });

  app.get('/api/events', (req, res) => {
    const { run } = parseParams(eventsQuery, req.query, 'query');
    events.connect(req, res, run);
  });

  app.use((req, _res, next) => next(new NotFoundError(`no such endpoint: ${req.method} ${req.path}`)));
  app.use(apiErrorHandler(log, redact));
  return {
    app,
    async close() {
      await launcher.close();
      await service.flushObservers();
      await events.close();
    },
  };
}

/**
 * The Express app of {@link createApi}, for callers that never launch runs or stream events
 * (nothing is left to stop); prefer {@link createApi} or ./server.ts otherwise.
 */
export function createApiApp(workspace: ApiWorkspace, options: ApiAppOptions = {}): Express {
  return createApi(workspace, options).app;
}

/** A wildcard path parameter (`*key`): express gives its `/`-separated segments, decoded. */
function wildcardParam(req: Request, name: string): unknown {
  const value = (req.params as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.join('/') : value;
}

function safeRealpath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
