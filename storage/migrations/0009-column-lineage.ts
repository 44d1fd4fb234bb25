/**
 * Column lineage per definition version: one row per asset with its traced (or declared) output
 * columns, their upstream columns, its indirect uses and why anything is unknown, as JSON. A
 * later recording of the same asset in the same version replaces its row (the version hashes
 * the graph's shape only, so an edited query keeps its version).
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates `column_lineage`. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .createTable('column_lineage')
    .addColumn('definition_version', d.text, (c) => c.notNull())
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('lineage', d.text, (c) => c.notNull())
    .addColumn('recorded_at', d.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint('column_lineage_pk', ['definition_version', 'asset_key'])
    .$call(d.keyedTable)
    .execute();
}

/** Drops it. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('column_lineage').execute();
}

/** Migration 0009: column lineage per definition version. */
export function columnLineageMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
