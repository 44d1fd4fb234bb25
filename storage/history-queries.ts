/**
 * The read queries of SqliteStorage and PostgresStorage over what steps recorded:
 * materialization and check history (per asset, newest first), the latest check results and
 * the latest step failures. The two differ only in what {@link QueryDialect} spells.
 */
import type { Kysely, RawBuilder } from 'kysely';
import { sql } from './kysely/kysely-runtime.ts';
import { parseJsonObject, partitionFromColumn, partitionToColumn } from './column-codecs.ts';
import { normalizePage } from './page.ts';
import { checkResultFromRow, latestCheckResultFromRow, materializationFromRow, stepFailureFromRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import type { CheckResultRecord, MaterializationRecord, Page, RunMaterializations, StepFailureRecord } from './storage.ts';

/** What the storage queries spell differently on SQLite and Postgres. */
export interface QueryDialect {
  /** The `limit` meaning none (SQLite needs a limit before an offset: -1; Postgres: null). */
  readonly noLimit: number | null;
  /** `asset_key` is one of `keys` (bound as one parameter, however many keys). */
  inKeys(keys: readonly string[]): RawBuilder<boolean>;
}

/** SQLite's spelling: keys as one JSON array read with json_each. */
export const SQLITE_QUERIES: QueryDialect = Object.freeze({
  noLimit: -1,
  inKeys: (keys: readonly string[]) => sql<boolean>`asset_key in (select value from json_each(${JSON.stringify(keys)}))`,
});

/** Postgres's spelling: keys as one text array. */
export const POSTGRES_QUERIES: QueryDialect = Object.freeze({
  noLimit: null,
  inKeys: (keys: readonly string[]) => sql<boolean>`asset_key = any(${[...keys]}::text[])`,
});

/** `Storage.materializationHistory`: one asset's materializations, newest first. */
export async function materializationHistory(
  db: Kysely<Database>,
  dialect: QueryDialect,
  key: string,
  options: Page & { readonly partition?: string | null } = {},
): Promise<MaterializationRecord[]> {
  const page = normalizePage(options);
  let query = db.selectFrom('materializations').selectAll().where('asset_key', '=', key);
  if (options.partition !== undefined) query = query.where('partition_key', '=', partitionToColumn(options.partition));
  const rows = await query
    .orderBy('id', 'desc')
    .limit(page.limit ?? dialect.noLimit)
    .offset(page.offset)
    .execute();
  return rows.map(materializationFromRow);
}

/** `Storage.materializationsByRun`: one asset's materializations summed up per run, in one grouped query. */
export async function materializationsByRun(db: Kysely<Database>, dialect: QueryDialect, key: string, options: Page = {}): Promise<RunMaterializations[]> {
  const page = normalizePage(options);
  const perRun = db
    .selectFrom('materializations')
    .where('asset_key', '=', key)
    .groupBy('run_id')
    .select((eb) => [
      'run_id',
      eb.fn.countAll<number>().as('partitions'),
      eb.fn.min('partition_key').as('first_partition'),
      eb.fn.max('partition_key').as('last_partition'),
      eb.fn.sum<number | null>('row_count').as('row_count'),
      eb.fn.max('timestamp').as('timestamp'),
      eb.fn.max('id').as('last_id'),
    ]);
  // The code version and metadata are the run's last materialization's, joined by id: with several min()/max()
  // in one query, SQL does not say which row a bare column would come from.
  const rows = await db
    .selectFrom(perRun.as('r'))
    .innerJoin('materializations as last', 'last.id', 'r.last_id')
    .selectAll('r')
    .select(['last.code_version', 'last.metadata'])
    .orderBy('r.last_id', 'desc')
    .limit(page.limit ?? dialect.noLimit)
    .offset(page.offset)
    .execute();
  return rows.map((r) => ({
    runId: r.run_id,
    partitions: Number(r.partitions),
    firstPartition: partitionFromColumn(r.first_partition),
    lastPartition: partitionFromColumn(r.last_partition),
    rowCount: r.row_count === null ? null : Number(r.row_count),
    timestamp: Number(r.timestamp),
    codeVersion: r.code_version,
    metadata: parseJsonObject(r.metadata),
  }));
}

/** `Storage.latestCheckResults`, from the table that keeps the latest result per check and partition. */
export async function latestCheckResults(db: Kysely<Database>, dialect: QueryDialect, keys?: readonly string[]): Promise<CheckResultRecord[]> {
  if (keys !== undefined && keys.length === 0) return [];
  let query = db.selectFrom('latest_check_results').selectAll().orderBy('asset_key').orderBy('check_name').orderBy('partition_key');
  if (keys !== undefined) {
    query = query.where(dialect.inKeys(keys));
  }
  return (await query.execute()).map(latestCheckResultFromRow);
}

/** `Storage.checkHistory`: one asset's check results, newest first. */
export async function checkHistory(db: Kysely<Database>, dialect: QueryDialect, key: string, options: Page = {}): Promise<CheckResultRecord[]> {
  const page = normalizePage(options);
  const rows = await db
    .selectFrom('check_results')
    .selectAll()
    .where('asset_key', '=', key)
    .orderBy('id', 'desc')
    .limit(page.limit ?? dialect.noLimit)
    .offset(page.offset)
    .execute();
  return rows.map(checkResultFromRow);
}

/** `Storage.latestStepFailures`: the latest `step_failure` event of every asset partition. */
export async function latestStepFailures(db: Kysely<Database>, dialect: QueryDialect, keys?: readonly string[]): Promise<StepFailureRecord[]> {
  if (keys !== undefined && keys.length === 0) return [];
  // The id of every asset partition's latest failure, read from the partial index
  // events_step_failure_idx alone; the type is a literal so SQLite can prove the index applies.
  let latest = db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('type', '=', sql.lit('step_failure'))
    .where('asset_key', 'is not', null)
    .groupBy(['asset_key', 'partition_key']);
  if (keys !== undefined) {
    latest = latest.where(dialect.inKeys(keys));
  }
  const rows = await db
    .selectFrom(latest.as('latest'))
    .innerJoin('events', 'events.id', 'latest.id')
    .select(['events.id', 'events.run_id', 'events.timestamp', 'events.asset_key', 'events.partition_key', 'events.message'])
    .$narrowType<{ asset_key: string }>()
    .orderBy('events.asset_key')
    .orderBy('events.partition_key', (ob) => ob.asc().nullsFirst())
    .execute();
  return rows.map(stepFailureFromRow);
}
