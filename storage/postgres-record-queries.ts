/**
 * The Postgres queries over runs, backfills and lineage (see ./postgres-storage.ts, which
 * orders them with its other writes): plain kysely over the same rows as SQLite.
 */

import type { Kysely } from 'kysely';
import { sql } from './kysely/kysely-runtime.ts';
import { NotFoundError } from '../core/model/errors.ts';
import { normalizePage } from './page.ts';
import { backfillFromRow, backfillToRow, backfillUpdateToRow, runFromRow, runToRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import { batches } from './postgres-step-writes.ts';
import { FIRST_QUEUE_PAGE, pickFromRows } from './queue-claim.ts';
import { backfillExistsError, runExistsError } from './storage-error.ts';
import type { BackfillRecord, BackfillUpdate, LineageEdge, Page, RunClaim, RunRecord, RunStatus, RunUpdate } from './storage.ts';

const UNIQUE_VIOLATION = '23505';

/** `Storage.createRun`: a taken id is `run_exists`. */
export async function createRun(db: Kysely<Database>, run: RunRecord): Promise<void> {
  try {
    await db.insertInto('runs').values(runToRow(run)).execute();
  } catch (error) {
    if (pgCode(error) === UNIQUE_VIOLATION) throw runExistsError(run.id, error);
    throw error;
  }
}

/** `Storage.updateRun`: only the given fields; an unknown run is a `NotFoundError`. */
export async function updateRun(db: Kysely<Database>, id: string, update: RunUpdate): Promise<void> {
  const set = definedOnly({
    status: update.status,
    started_at: update.startedAt,
    ended_at: update.endedAt,
    error: update.error,
    heartbeat_at: update.heartbeatAt,
  });
  const found =
    Object.keys(set).length === 0
      ? (await getRun(db, id)) !== undefined
      : (await db.updateTable('runs').set(set).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n;
  if (!found) throw new NotFoundError(`run ${id} does not exist`);
}

/** First half of the queue's advisory lock key: "St" + "Qu"; the second is the schema's hash. */
const QUEUE_LOCK_CLASS = 0x5374_5175;

/**
 * `Storage.claimQueuedRun`: one transaction that holds an advisory lock of this schema's queue
 * until it ends, so claimers on every host count the running runs' pools and take a run one
 * after another (the lock is held for two reads and one update).
 */
export async function claimQueuedRun(db: Kysely<Database>, claim: RunClaim): Promise<RunRecord | undefined> {
  return db.transaction().execute(async (trx) => {
    // Its own statement: the reads after it must see the runs claimed by whoever held it before.
    await sql`select pg_advisory_xact_lock(${sql.lit(QUEUE_LOCK_CLASS)}, hashtext(current_schema()) & 2147483647)`.execute(trx);
    const running = await trx.selectFrom('runs').select('pools').where('status', '=', 'running').where('pools', 'is not', null).execute();
    const queued = (limit: number | null) =>
      trx
        .selectFrom('runs')
        .select(['id', 'pools'])
        .where('status', '=', 'queued')
        .where('request', 'is not', null)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
    const first = await queued(FIRST_QUEUE_PAGE);
    const id = pickFromRows(first, running, claim) ?? (first.length < FIRST_QUEUE_PAGE ? undefined : pickFromRows(await queued(null), running, claim));
    if (id === undefined) return undefined;
    // Canceled meanwhile by a process that does not take the lock: nothing is claimed this time.
    const row = await trx
      .updateTable('runs')
      .set({ status: 'running', started_at: claim.now, heartbeat_at: claim.now, pid: claim.pid })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : runFromRow(row);
  });
}

/** `Storage.cancelQueuedRun`: one conditional update (a claim racing it locks the same row first, or finds it canceled). */
export async function cancelQueuedRun(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('runs').set({ status: 'canceled', ended_at: now }).where('id', '=', id).where('status', '=', 'queued').executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** `Storage.getRun`. */
export async function getRun(db: Kysely<Database>, id: string): Promise<RunRecord | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : runFromRow(row);
}

/** `Storage.findRunsByPrefix`: newest first, at most 10. */
export async function findRunsByPrefix(db: Kysely<Database>, prefix: string): Promise<RunRecord[]> {
  const rows = await db.selectFrom('runs').selectAll().where(idStartsWith(prefix)).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(10).execute();
  return rows.map(runFromRow);
}

/** `Storage.listRuns`: newest first, paged. */
export async function listRuns(db: Kysely<Database>, options: Page & { readonly status?: RunStatus } = {}): Promise<RunRecord[]> {
  const page = normalizePage(options);
  let query = db.selectFrom('runs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (options.status !== undefined) query = query.where('status', '=', options.status);
  return (
    await query
      .limit(page.limit ?? null)
      .offset(page.offset)
      .execute()
  ).map(runFromRow);
}

/** `Storage.createBackfill`: a taken id is `backfill_exists`. */
export async function createBackfill(db: Kysely<Database>, backfill: BackfillRecord): Promise<void> {
  try {
    await db.insertInto('backfills').values(backfillToRow(backfill)).execute();
  } catch (error) {
    if (pgCode(error) === UNIQUE_VIOLATION) throw backfillExistsError(backfill.id, error);
    throw error;
  }
}

/** `Storage.updateBackfill`: only the given fields; an unknown backfill is a `NotFoundError`. */
export async function updateBackfill(db: Kysely<Database>, id: string, update: BackfillUpdate): Promise<void> {
  const set = backfillUpdateToRow(update);
  const found =
    Object.keys(set).length === 0
      ? (await getBackfill(db, id)) !== undefined
      : (await db.updateTable('backfills').set(set).where('id', '=', id).executeTakeFirst()).numUpdatedRows > 0n;
  if (!found) throw new NotFoundError(`backfill ${id} does not exist`);
}

/** `Storage.getBackfill`. */
export async function getBackfill(db: Kysely<Database>, id: string): Promise<BackfillRecord | undefined> {
  const row = await db.selectFrom('backfills').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : backfillFromRow(row);
}

/** `Storage.findBackfillsByPrefix`: newest first, at most 10. */
export async function findBackfillsByPrefix(db: Kysely<Database>, prefix: string): Promise<BackfillRecord[]> {
  const rows = await db.selectFrom('backfills').selectAll().where(idStartsWith(prefix)).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(10).execute();
  return rows.map(backfillFromRow);
}

/** `Storage.listBackfills`: newest first, paged. */
export async function listBackfills(db: Kysely<Database>, options: Page = {}): Promise<BackfillRecord[]> {
  const page = normalizePage(options);
  const rows = await db
    .selectFrom('backfills')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit ?? null)
    .offset(page.offset)
    .execute();
  return rows.map(backfillFromRow);
}

/** `Storage.recordLineage`, in one transaction that locks out other recorders (ordinals are max + 1). */
export async function recordLineage(db: Kysely<Database>, definitionVersion: string, edges: readonly LineageEdge[]): Promise<void> {
  // Every run records its version: when it is the latest already (the common case), one read, no table lock for workers to queue on.
  if ((await latestDefinitionVersion(db)) === definitionVersion) return;
  const recordedAt = Date.now();
  await db.transaction().execute(async (trx) => {
    // Ordinals are max + 1: one recorder at a time.
    await sql`lock table definition_versions in share row exclusive mode`.execute(trx);
    const nextOrdinal = sql<number>`(select coalesce(max(ordinal), 0) + 1 from definition_versions)`;
    // A version recorded before keeps its edges but becomes the latest again.
    const bumped = await trx.updateTable('definition_versions').set({ ordinal: nextOrdinal }).where('version', '=', definitionVersion).executeTakeFirst();
    if (bumped.numUpdatedRows > 0n) return;
    await trx.insertInto('definition_versions').values({ version: definitionVersion, recorded_at: recordedAt, ordinal: nextOrdinal }).execute();
    const rows = edges.map(({ upstream, downstream, via = 'data' }) => ({
      definition_version: definitionVersion,
      upstream,
      downstream,
      recorded_at: recordedAt,
      via,
    }));
    for (const batch of batches(rows))
      await trx
        .insertInto('asset_lineage')
        .values(batch)
        .onConflict((oc) => oc.doNothing())
        .execute();
  });
}

/** `Storage.lineage`: the edges of a version in recorded order. */
export async function lineage(db: Kysely<Database>, definitionVersion: string): Promise<LineageEdge[]> {
  const rows = await db
    .selectFrom('asset_lineage')
    .select(['upstream', 'downstream', 'via'])
    .where('definition_version', '=', definitionVersion)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ upstream: r.upstream, downstream: r.downstream, via: r.via === 'check' ? 'check' : 'data' }));
}

/** `Storage.latestDefinitionVersion`. */
export async function latestDefinitionVersion(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('definition_versions').select('version').orderBy('ordinal', 'desc').limit(1).executeTakeFirst();
  return row?.version;
}

function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The `id` column starts with `prefix`, case-sensitively (LIKE with its wildcards escaped, for the index; starts_with to be exact). */
function idStartsWith(prefix: string) {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`id like ${pattern} escape '\\' and starts_with(id, ${prefix})`;
}

/** `object` without its `undefined` properties. */
function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
