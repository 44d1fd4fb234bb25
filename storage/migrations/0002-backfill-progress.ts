/**
 * Backfill progress and failed attempts: the columns a backfill record needs beyond its
 * request (mode, grouping, the runs that worked on it, counts, error), an index to list
 * backfills newest first, and a partial index over `step_failure` events so the latest
 * failure of every asset partition is read without scanning the whole event log.
 */

import { sql } from '../kysely/kysely-runtime.ts';
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import { SQLITE_SCHEMA, type DataTypeExpression, type SchemaDialect } from './schema-dialect.ts';

/** New `backfills` columns; every one has a default, so rows written before keep working. */
function backfillColumns(d: SchemaDialect): [name: string, type: DataTypeExpression, build: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder][] {
  return [
    ['mode', d.text, (c) => c.notNull().defaultTo('all')],
    ['grouping', d.text, (c) => c.notNull().defaultTo('policy')],
    ['run_ids', d.text, (c) => c.notNull().defaultTo('[]')],
    ['total', d.integer, (c) => c.notNull().defaultTo(0)],
    ['done', d.integer, (c) => c.notNull().defaultTo(0)],
    ['failed', d.integer, (c) => c.notNull().defaultTo(0)],
    ['error', d.text, (c) => c],
  ];
}

/** Adds the backfill columns and the two indexes. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  // SQLite adds one column per ALTER TABLE statement.
  for (const [name, type, build] of backfillColumns(d)) {
    await db.schema.alterTable('backfills').addColumn(name, type, build).execute();
  }
  await db.schema.createIndex('backfills_created_at_idx').on('backfills').columns(['created_at', 'id']).execute();

  // Only failure events, ordered for GROUP BY (asset_key, partition_key) with max(id).
  await db.schema
    .createIndex('events_step_failure_idx')
    .on('events')
    .columns(['asset_key', 'partition_key', 'id'])
    .where(sql.ref('type'), '=', 'step_failure')
    .execute();
}

/** Drops the indexes and the backfill columns. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_step_failure_idx').ifExists().execute();
  await db.schema.dropIndex('backfills_created_at_idx').ifExists().execute();
  for (const [name] of backfillColumns(SQLITE_SCHEMA).reverse()) {
    await db.schema.alterTable('backfills').dropColumn(name).execute();
  }
}

/** Migration 0002: backfill progress columns and the step-failure index. */
export function backfillProgressMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
