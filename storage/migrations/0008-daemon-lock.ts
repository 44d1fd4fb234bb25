/**
 * The daemon lock on SQLite: `daemon_lock` holds at most one row per lock name (`daemon`), the
 * process holding it (pid, host), a token only the holder knows, and when it expires unless
 * renewed (see ../sqlite-daemon-lock.ts). Postgres holds the lock as an advisory lock instead
 * and leaves this table empty.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates the table. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await d
    .keyedTable(
      db.schema
        .createTable('daemon_lock')
        .addColumn('name', d.text, (c) => c.primaryKey())
        .addColumn('pid', d.integer, (c) => c.notNull())
        .addColumn('host', d.text, (c) => c.notNull())
        .addColumn('token', d.text, (c) => c.notNull())
        .addColumn('acquired_at', d.integer, (c) => c.notNull())
        .addColumn('expires_at', d.integer, (c) => c.notNull()),
    )
    .execute();
}

/** Drops the table. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('daemon_lock').ifExists().execute();
}

/** Migration 0008: the daemon lock (SQLite). */
export function daemonLockMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
