/**
 * Check dependencies and check errors: `asset_lineage.via` says whether an edge is a data
 * dependency (`data`, every edge recorded before) or a check dependency (`check`: only the
 * downstream asset's checks read the upstream one), and `check_results.error` /
 * `latest_check_results.error` hold why a check could not run (DuckDB's message; `NULL` when it
 * ran, as every result recorded before did).
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Adds the three columns. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .alterTable('asset_lineage')
    .addColumn('via', d.text, (c) => c.notNull().defaultTo('data'))
    .execute();
  await db.schema.alterTable('check_results').addColumn('error', d.text).execute();
  await db.schema.alterTable('latest_check_results').addColumn('error', d.text).execute();
}

/** Drops them. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('latest_check_results').dropColumn('error').execute();
  await db.schema.alterTable('check_results').dropColumn('error').execute();
  await db.schema.alterTable('asset_lineage').dropColumn('via').execute();
}

/** Migration 0006: lineage edge kinds (data or check) and check errors. */
export function checkDependenciesMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
