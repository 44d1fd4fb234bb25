/**
 * What a step writes, on Postgres: events, materializations and check results in multi-row
 * inserts, each latest copy (`latest_materializations`, `latest_check_results`) upserted from
 * the rows just inserted in one statement, inside the caller's transaction. Each takes the
 * append lock first (./postgres-append-order.ts): ids commit in order.
 */

import { sql } from './kysely/kysely-runtime.ts';
import type { Transaction } from 'kysely';
import { checkResultToRow, materializationToRow, type NewEventRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import { appendLockCondition, holdsAppendLock, lockAppendOrder } from './postgres-append-order.ts';
import type { CheckResultRecord, MaterializationRecord } from './storage.ts';

/** Rows per multi-row insert: well under Postgres's 65,535 parameters for the widest table. */
const INSERT_BATCH = 2_000;

/** Appends event rows (ids in their order). */
export async function insertEvents(trx: Transaction<Database>, rows: readonly NewEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (holdsAppendLock(trx)) {
    for (const batch of batches(rows)) await trx.insertInto('events').values(batch).execute();
    return;
  }
  // One statement takes the append lock, then draws the ids (in the rows' order), saving a round trip on the hot path.
  const column = <K extends keyof NewEventRow>(name: K) => rows.map((r) => r[name]);
  await sql`insert into events (run_id, timestamp, type, level, asset_key, partition_key, message, data)
    select * from unnest(${column('run_id')}::text[], ${column('timestamp')}::bigint[], ${column('type')}::text[], ${column('level')}::text[],
      ${column('asset_key')}::text[], ${column('partition_key')}::text[], ${column('message')}::text[], ${column('data')}::text[])
    where ${appendLockCondition()}`.execute(trx);
  holdsAppendLock(trx, true);
}

/** Inserts materializations and makes the newest of each asset partition its latest. */
export async function insertMaterializations(trx: Transaction<Database>, records: readonly MaterializationRecord[]): Promise<void> {
  if (records.length > 0) await lockAppendOrder(trx);
  for (const batch of batches(records.map(materializationToRow))) {
    const ids = (await trx.insertInto('materializations').values(batch).returning('id').execute()).map((r) => r.id);
    await sql`insert into latest_materializations (asset_key, partition_key, run_id, timestamp, code_version, data_version, input_data_versions,
        row_count, metadata, read_seq, deps_version, materialization_id, version_key)
      select distinct on (asset_key, partition_key) asset_key, partition_key, run_id, timestamp, code_version, data_version, input_data_versions,
        row_count, metadata, read_seq, deps_version, id, code_version || ' ' || deps_version
      from materializations where id = any(${ids}::bigint[]) order by asset_key, partition_key, id desc
      on conflict (asset_key, partition_key) do update set run_id = excluded.run_id, timestamp = excluded.timestamp,
        code_version = excluded.code_version, data_version = excluded.data_version, input_data_versions = excluded.input_data_versions,
        row_count = excluded.row_count, metadata = excluded.metadata, read_seq = excluded.read_seq, deps_version = excluded.deps_version,
        materialization_id = excluded.materialization_id, version_key = excluded.version_key`.execute(trx);
  }
}

/** Inserts check results and makes the newest of each check and partition its latest. */
export async function insertCheckResults(trx: Transaction<Database>, records: readonly CheckResultRecord[]): Promise<void> {
  if (records.length > 0) await lockAppendOrder(trx);
  for (const batch of batches(records.map(checkResultToRow))) {
    const ids = (await trx.insertInto('check_results').values(batch).returning('id').execute()).map((r) => r.id);
    await sql`insert into latest_check_results (asset_key, check_name, partition_key, check_result_id, run_id, passed, severity, violations,
        sample, sql, duration_ms, timestamp, error)
      select distinct on (asset_key, check_name, partition_key) asset_key, check_name, partition_key, id, run_id, passed, severity, violations,
        sample, sql, duration_ms, timestamp, error
      from check_results where id = any(${ids}::bigint[]) order by asset_key, check_name, partition_key, id desc
      on conflict (asset_key, check_name, partition_key) do update set check_result_id = excluded.check_result_id, run_id = excluded.run_id,
        passed = excluded.passed, severity = excluded.severity, violations = excluded.violations, sample = excluded.sample, sql = excluded.sql,
        duration_ms = excluded.duration_ms, timestamp = excluded.timestamp, error = excluded.error`.execute(trx);
  }
}

/** `rows` in slices of at most {@link INSERT_BATCH}. */
export function* batches<T>(rows: readonly T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) yield rows.slice(i, i + INSERT_BATCH);
}
