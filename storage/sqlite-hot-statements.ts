/**
 * The executor's hot path (append events, commit a step, read latest materializations):
 * statements built once with kysely and kept as better-sqlite3 prepared statements, whose
 * writes the storage runs in its group-commit transactions (see ./sqlite-group-commit.ts). Kysely re-prepares every query it runs, which
 * costs more than a whole step may spend in storage; these are compiled with named
 * `@column` parameters and bound from row objects (see ./row-mappers.ts).
 */

import { sql } from './kysely/kysely-runtime.ts';
import type { Kysely, RawBuilder } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import { checkResultToRow, eventToRow, latestMaterializationRow, materializationToRow } from './row-mappers.ts';
import type { Database } from './schema.ts';
import { param, params } from './sqlite-named-parameters.ts';
import type { EventRecord, MaterializationRecord, StepCommit } from './storage.ts';
import type { LatestCheckResultRow, LatestMaterializationRow, NewCheckResultRow, NewEventRow, NewMaterializationRow } from './row-mappers.ts';
import { LATEST_MATERIALIZATION_COLUMNS, type LatestMaterializationTuple, materializationFromTuple } from './record-tuples.ts';

const EVENT_COLUMNS = ['run_id', 'timestamp', 'type', 'level', 'asset_key', 'partition_key', 'message', 'data'] as const;
const MATERIALIZATION_COLUMNS = [
  'asset_key',
  'partition_key',
  'run_id',
  'timestamp',
  'code_version',
  'data_version',
  'input_data_versions',
  'row_count',
  'metadata',
  'read_seq',
  'deps_version',
] as const;
const CHECK_RESULT_COLUMNS = [
  'run_id',
  'asset_key',
  'partition_key',
  'check_name',
  'passed',
  'severity',
  'violations',
  'sample',
  'sql',
  'duration_ms',
  'timestamp',
  'error',
] as const;

/**
 * Reads latest materializations row by row (no intermediate row array), building records
 * directly from raw tuples: the bulk read staleness depends on.
 */
export function readLatestMaterializations<P extends unknown[]>(
  statement: BetterSqlite3.Statement<P, LatestMaterializationTuple>,
  ...params: P
): MaterializationRecord[] {
  const records: MaterializationRecord[] = [];
  for (const r of statement.iterate(...params)) records.push(materializationFromTuple(r));
  return records;
}

/** Sets every column of an upsert to its `excluded` value. */
function excludedSet(columns: readonly string[]): Record<string, RawBuilder<unknown>> {
  return Object.fromEntries(columns.map((c) => [c, sql.raw(`excluded.${c}`)]));
}

/** Prepared hot-path statements and write transactions of one connection. */
export class SqliteHotStatements {
  /** Appends events (inside a transaction the caller opens). */
  readonly appendEvents: (events: readonly EventRecord[]) => void;
  /** Appends a step's events and records its materializations and check results (inside a transaction the caller opens). */
  readonly commitStep: (commit: StepCommit) => void;
  /** Binds a {@link NewEventRow}. */
  readonly insertEvent: BetterSqlite3.Statement<[NewEventRow]>;
  /** Binds a {@link NewMaterializationRow}; `lastInsertRowid` is the new id. */
  readonly insertMaterialization: BetterSqlite3.Statement<[NewMaterializationRow]>;
  /** Binds a {@link LatestMaterializationRow}; replaces the partition's latest copy. */
  readonly upsertLatestMaterialization: BetterSqlite3.Statement<[LatestMaterializationRow]>;
  /** Binds a {@link NewCheckResultRow}; `lastInsertRowid` is the new id. */
  readonly insertCheckResult: BetterSqlite3.Statement<[NewCheckResultRow]>;
  /** Binds a {@link LatestCheckResultRow}; replaces the check's latest copy. */
  readonly upsertLatestCheckResult: BetterSqlite3.Statement<[LatestCheckResultRow]>;
  /** Every latest materialization, by asset key then partition (raw mode). */
  readonly selectAllLatestMaterializations: BetterSqlite3.Statement<[], LatestMaterializationTuple>;
  /** Latest materializations of the asset keys in the JSON array `@keys` (raw mode). */
  readonly selectLatestMaterializationsOf: BetterSqlite3.Statement<[{ keys: string }], LatestMaterializationTuple>;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database) {
    const prepare = <P extends unknown[], R = unknown>(query: { compile(): { sql: string } }) => sqlite.prepare<P, R>(query.compile().sql);

    this.insertEvent = prepare(db.insertInto('events').values(params<NewEventRow>(EVENT_COLUMNS)));
    this.insertMaterialization = prepare(db.insertInto('materializations').values(params<NewMaterializationRow>(MATERIALIZATION_COLUMNS)));
    this.upsertLatestMaterialization = prepare(
      db
        .insertInto('latest_materializations')
        .values(params<LatestMaterializationRow>([...MATERIALIZATION_COLUMNS, 'materialization_id', 'version_key']))
        .onConflict((oc) =>
          oc.columns(['asset_key', 'partition_key']).doUpdateSet(excludedSet([...MATERIALIZATION_COLUMNS.slice(2), 'materialization_id', 'version_key'])),
        ),
    );
    this.insertCheckResult = prepare(db.insertInto('check_results').values(params<NewCheckResultRow>(CHECK_RESULT_COLUMNS)));
    this.upsertLatestCheckResult = prepare(
      db
        .insertInto('latest_check_results')
        .values(params<LatestCheckResultRow>([...CHECK_RESULT_COLUMNS, 'check_result_id']))
        .onConflict((oc) =>
          oc
            .columns(['asset_key', 'check_name', 'partition_key'])
            .doUpdateSet(
              excludedSet([...CHECK_RESULT_COLUMNS, 'check_result_id'].filter((c) => c !== 'asset_key' && c !== 'check_name' && c !== 'partition_key')),
            ),
        ),
    );
    const latest = db.selectFrom('latest_materializations').select(LATEST_MATERIALIZATION_COLUMNS).orderBy('asset_key').orderBy('partition_key');
    this.selectAllLatestMaterializations = prepare<[], LatestMaterializationTuple>(latest).raw();
    this.selectLatestMaterializationsOf = prepare<[{ keys: string }], LatestMaterializationTuple>(
      latest.where(sql<boolean>`asset_key in (select value from json_each(${param('keys')}))`),
    ).raw();

    const insertEvents = (events: readonly EventRecord[]) => {
      for (const event of events) this.insertEvent.run(eventToRow(event));
    };
    this.appendEvents = insertEvents;
    this.commitStep = (commit: StepCommit) => {
      insertEvents(commit.events);
      for (const m of commit.materializations ?? []) {
        const row = materializationToRow(m);
        const id = Number(this.insertMaterialization.run(row).lastInsertRowid);
        this.upsertLatestMaterialization.run(latestMaterializationRow(row, id));
      }
      for (const c of commit.checkResults ?? []) {
        const row = checkResultToRow(c);
        const id = Number(this.insertCheckResult.run(row).lastInsertRowid);
        this.upsertLatestCheckResult.run({ ...row, check_result_id: id });
      }
    };
  }
}
