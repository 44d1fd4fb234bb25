/**
 * Run pools: `runs.pools` (JSON array: the concurrency pools a queued run holds a slot of
 * while it runs). Claims count them over the running runs, so pool limits hold across every
 * worker on every host.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Adds the column. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema.alterTable('runs').addColumn('pools', d.text).execute();
}

/** Drops the column. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('pools').execute();
}

/** Migration 0010: the pools of queued runs. */
export function runPoolsMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
