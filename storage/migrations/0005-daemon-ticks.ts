/**
 * Daemon ticks: `daemon_ticks` holds one row per iteration of `assets daemon` with its
 * decisions (JSON), and `daemon_cursors` the daemon's named cursors (a schedule's last
 * evaluated cron tick). The `schedule_ticks` table of 0001 stays unused.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates the two tables. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .createTable('daemon_ticks')
    .addColumn('id', d.idType, d.id)
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('decisions', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('run_ids', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('error', d.text)
    .addColumn('ended_at', d.integer)
    .execute();

  await db.schema
    .createTable('daemon_cursors')
    .addColumn('name', d.text, (c) => c.primaryKey())
    .addColumn('value', d.text, (c) => c.notNull())
    .addColumn('updated_at', d.integer, (c) => c.notNull())
    .execute();
}

/** Drops the two tables. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('daemon_cursors').ifExists().execute();
  await db.schema.dropTable('daemon_ticks').ifExists().execute();
}

/** Migration 0005: daemon ticks with their decisions, and daemon cursors. */
export function daemonTicksMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
