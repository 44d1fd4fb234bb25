/**
 * Daemon ticks: `daemon_ticks` holds one row per iteration of `assets daemon` with its
 * decisions (JSON), and `daemon_cursors` the daemon's named cursors (a schedule's last
 * evaluated cron tick). The `schedule_ticks` table of 0001 stays unused.
 */

import type { Kysely, Migration } from 'kysely';

/** Creates the two tables. */
async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('daemon_ticks')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decisions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('run_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('error', 'text')
    .addColumn('ended_at', 'integer')
    .execute();

  await db.schema
    .createTable('daemon_cursors')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
}

/** Drops the two tables. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('daemon_cursors').ifExists().execute();
  await db.schema.dropTable('daemon_ticks').ifExists().execute();
}

/** Migration 0005: daemon ticks with their decisions, and daemon cursors. */
export const daemonTicksMigration: Migration = { up, down };
