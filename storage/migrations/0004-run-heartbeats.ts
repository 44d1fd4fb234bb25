/**
 * Run heartbeats: `runs.heartbeat_at` (the last time the run's process said it was alive; dead
 * runs are found by it) and `runs.pid` (the process id, to say which run holds a busy
 * warehouse), with an index to find running runs by heartbeat. Leases use the `leases` table
 * of migration 0001 as it is.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Adds the two run columns and the index. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema.alterTable('runs').addColumn('heartbeat_at', d.integer).execute();
  await db.schema.alterTable('runs').addColumn('pid', d.integer).execute();
  await db.schema.createIndex('runs_status_heartbeat_at_idx').on('runs').columns(['status', 'heartbeat_at']).execute();
}

/** Drops the index and the columns. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('runs_status_heartbeat_at_idx').ifExists().execute();
  await db.schema.alterTable('runs').dropColumn('pid').execute();
  await db.schema.alterTable('runs').dropColumn('heartbeat_at').execute();
}

/** Migration 0004: run heartbeats and process ids. */
export function runHeartbeatsMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
