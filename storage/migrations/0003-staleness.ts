/**
 * Staleness: what bulk staleness needs from the latest-materialization index, and source
 * observations.
 *
 * - `read_seq` on materializations: the data sequence number when the step read its inputs.
 *   Every materialization and observation takes the next number of one sequence (the
 *   `materializations` id counter: AUTOINCREMENT on SQLite, the identity sequence on Postgres), so an upstream partition whose latest number
 *   is above a downstream partition's `read_seq` was written after that partition read it.
 * - `deps_version`: a hash of the dependency keys the asset had when it was built.
 * - a covering index over exactly the columns the bulk pass reads, so it scans a narrow
 *   B-tree instead of the wide rows; the code and dependency versions enter it as one
 *   column (`version_key`, `code deps`, written with the row), so the pass compares one value
 *   per row, not two. (A generated column would not do: SQLite reads it from the table, not
 *   from the index.)
 * - `observations` / `latest_observations`: data versions of source assets (landing files),
 *   observed rather than materialized.
 */

import { sql } from '../kysely/kysely-runtime.ts';
import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

const MATERIALIZATION_TABLES = ['materializations', 'latest_materializations'] as const;

async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  for (const table of MATERIALIZATION_TABLES) {
    await db.schema
      .alterTable(table)
      .addColumn('read_seq', d.integer, (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable(table)
      .addColumn('deps_version', d.text, (c) => c.notNull().defaultTo(''))
      .execute();
  }
  // Rows written before this migration read their inputs no later than they were committed.
  await sql`update materializations set read_seq = id`.execute(db);
  await sql`update latest_materializations set read_seq = materialization_id`.execute(db);
  await db.schema
    .alterTable('latest_materializations')
    .addColumn('version_key', d.text, (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`update latest_materializations set version_key = code_version || ' ' || deps_version`.execute(db);
  await db.schema
    .createIndex('latest_materializations_staleness_idx')
    .on('latest_materializations')
    .columns(['asset_key', 'partition_key', 'materialization_id', 'read_seq', 'version_key'])
    .execute();
  // The shared sequence lives in sqlite_sequence; make sure it has a row to increment. (On
  // Postgres it is the identity sequence of materializations.id, which always exists.)
  if (d.name === 'sqlite')
    await sql`insert into sqlite_sequence (name, seq) select 'materializations', coalesce((select max(id) from materializations), 0)
            where not exists (select 1 from sqlite_sequence where name = 'materializations')`.execute(db);

  await db.schema
    .createTable('observations')
    .addColumn('seq', d.integer, (c) => c.primaryKey())
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('data_version', d.text, (c) => c.notNull())
    .addColumn('metadata', d.text, (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('observations_asset_partition_idx').on('observations').columns(['asset_key', 'partition_key', 'seq']).execute();
  await db.schema
    .createTable('latest_observations')
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('seq', d.integer, (c) => c.notNull())
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('data_version', d.text, (c) => c.notNull())
    .addColumn('metadata', d.text, (c) => c.notNull().defaultTo('{}'))
    .addPrimaryKeyConstraint('latest_observations_pk', ['asset_key', 'partition_key'])
    .$call(d.keyedTable)
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('latest_observations').ifExists().execute();
  await db.schema.dropTable('observations').ifExists().execute();
  await db.schema.dropIndex('latest_materializations_staleness_idx').ifExists().execute();
  await db.schema.alterTable('latest_materializations').dropColumn('version_key').execute();
  for (const table of MATERIALIZATION_TABLES) {
    await db.schema.alterTable(table).dropColumn('deps_version').execute();
    await db.schema.alterTable(table).dropColumn('read_seq').execute();
  }
}

/** Migration 0003: staleness columns and index, source observations. */
export function stalenessMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
