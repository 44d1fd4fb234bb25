import { loopbackHostsOnly } from './host-check.ts';
import { realpathSync } from 'node:fs';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { NotFoundError, UsageError } from '../core/errors.ts';
import type { Project } from '../core/project/project-loader.ts';
import type { RunRecord, RunStatus, Storage } from '../storage/storage.ts';
import { apiErrorHandler } from './api-error-handler.ts';
import { intParam, pageParams, parseParams } from './api-params.ts';
import { describeAsset, listAssets, unknownAsset } from './asset-views.ts';
import { lineageOf } from './lineage-view.ts';
import { redactPaths } from './redact-paths.ts';
import { securityHeaders } from './security-headers.ts';

/**
 * What the API reads: a loaded project and its storage. `Workspace` from core/cli fits; the
 * API never opens the DuckDB warehouse.
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
const runsQuery = z
  .object({ ...pageParams(50, 500), status: z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` }).optional() })
  .strict();
const runIdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a run id (letters, digits, - and _)') }).strict();
const backfillsQuery = z.object(pageParams(50, 500)).strict();
const noQuery = z.object({}).strict();

/**
 * The read-only JSON API over a project's definitions and storage (GET only):
 *
 * - `GET /api/assets?select=SELECTION` — assets with kind, group, deps, state, stale count
 * - `GET /api/assets/KEY` — one asset (the key's `/` are path separators: `/api/assets/marts/fct_sales`;
 *   `%2F` works too)
 * - `GET /api/lineage/KEY?depth=N&direction=up|down|both` — nodes with depth, and edges
 * - `GET /api/runs?limit=&offset=&status=` and `GET /api/runs/ID` (a unique id prefix works) with events
 * - `GET /api/backfills?limit=&offset=`
 *
 * Bad parameters are HTTP 400 `{ error: { code, message, parameter } }`, unknown assets and
 * runs 404; no response carries a stack trace or the project's absolute folder.
 *
 * @example
 * const app = createApiApp(await Workspace.load(undefined));
 * app.listen(3000, '127.0.0.1');
 */
export function createApiApp(workspace: ApiWorkspace, options: ApiAppOptions = {}): Express {
  const { project } = workspace;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((error: unknown) => console.error(error instanceof Error ? (error.stack ?? error.message) : error));
  const dirs = [project.config.dir, safeRealpath(project.config.dir)];
  const redact = <T>(value: T): T => redactPaths(value, dirs);
  const send = (res: Response, body: unknown) => void res.json(redact(body));

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  if (options.loopbackOnly ?? true) app.use(loopbackHostsOnly());

  app.get('/api/assets', async (req, res) => {
    const { select } = parseParams(assetListQuery, req.query, 'query');
    send(res, { assets: await listAssets(project, await workspace.storage(), select, now()) });
  });

  app.get('/api/assets/*key', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    send(res, await describeAsset(project, await workspace.storage(), key, now()));
  });

  app.get('/api/lineage/*key', (req, res) => {
    const { key } = parseParams(assetKeyParams, { key: wildcardParam(req, 'key') }, 'path');
    const { depth, direction } = parseParams(lineageQuery, req.query, 'query');
    if (!project.graph.has(key)) throw unknownAsset(project, key);
    send(res, lineageOf(project.graph, key, depth ?? Infinity, direction));
  });

  app.get('/api/runs', async (req, res) => {
    const { limit, offset, status } = parseParams(runsQuery, req.query, 'query');
    const runs = await (await workspace.storage()).listRuns({ limit, offset, ...(status ? { status } : {}) });
    send(res, { runs, limit, offset });
  });

  app.get('/api/runs/:id', async (req, res) => {
    parseParams(noQuery, req.query, 'query');
    const { id } = parseParams(runIdParams, req.params, 'path');
    const storage = await workspace.storage();
    const run = await findRun(storage, id);
    send(res, { run, events: await storage.listEvents(run.id) });
  });

  app.get('/api/backfills', async (req, res) => {
    const { limit, offset } = parseParams(backfillsQuery, req.query, 'query');
    send(res, { backfills: await (await workspace.storage()).listBackfills({ limit, offset }), limit, offset });
  });

  app.use((req, _res, next) => next(new NotFoundError(`no such endpoint: ${req.method} ${req.path}`)));
  app.use(apiErrorHandler(log, redact));
  return app;
}

/** A wildcard path parameter (`*key`): express gives its `/`-separated segments, decoded. */
function wildcardParam(req: Request, name: string): unknown {
  const value = (req.params as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.join('/') : value;
}

/** The run with this id, or the only run whose id starts with it. */
async function findRun(storage: Storage, id: string): Promise<RunRecord> {
  const exact = await storage.getRun(id);
  if (exact) return exact;
  const matches = await storage.findRunsByPrefix(id);
  if (matches.length === 0) throw new NotFoundError(`no run with id "${id}"`);
  if (matches.length > 1) throw new UsageError(`run id "${id}" is ambiguous: ${matches.map((m) => m.id.slice(0, 12)).join(', ')}`, 'id');
  return matches[0] as RunRecord;
}

function safeRealpath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
