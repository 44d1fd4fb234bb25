/**
 * Queued runs: `runs.request` (JSON: what a run queued by `assets materialize --queue` needs
 * to run, read by the worker that claims it). The oldest queued run is found by the
 * `runs_status_created_at_idx` index of migration 0001.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Adds the column. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema.alterTable('runs').addColumn('request', d.text).execute();
}

/** Drops the column. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('request').execute();
}

/** Migration 0007: run requests for queued runs. */
export function runRequestsMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
