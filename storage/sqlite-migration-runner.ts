/**
 * Brings a SQLite database to the latest schema with kysely's Migrator. Opening an
 * up-to-date database only reads the migration table (no write lock, so read-only use and
 * cold starts stay cheap). Pending migrations run in one `BEGIN IMMEDIATE` transaction, so
 * processes opening the same file at once wait for each other (busy_timeout), and opens of
 * one file in this process are queued, because a second connection would otherwise block the
 * event loop waiting for a lock the first holds across awaits.
 */

import type BetterSqlite3 from 'better-sqlite3';
import { Migrator } from './kysely/kysely-runtime.ts';
import type { Kysely } from 'kysely';
import { migrationProvider, migrations } from './migrations/index.ts';

const MIGRATION_TABLE = 'kysely_migration';

/** Tables kysely's Migrator and SQLite keep, as far as the up-to-date check reads them. */
type BookkeepingTables = {
  sqlite_master: { type: string; name: string };
  kysely_migration: { name: string };
};

/** Per database file: the tail of the queue of migrations running in this process. */
const queues = new Map<string, Promise<void>>();

/**
 * Applies pending migrations to the database `sqlite` (which `db` queries), queued behind any
 * other migration of the same `file` in this process.
 *
 * @example
 * await migrateToLatest(sqlite, db, path.resolve(file));
 */
export function migrateToLatest(sqlite: BetterSqlite3.Database, db: Kysely<any>, file: string): Promise<void> {
  const previous = queues.get(file) ?? Promise.resolve();
  const current = previous.then(() => migrateNow(sqlite, db));
  const tail = current.then(
    () => undefined,
    () => undefined,
  );
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return current;
}

async function migrateNow(sqlite: BetterSqlite3.Database, db: Kysely<any>): Promise<void> {
  if (isUpToDate(sqlite, db)) return;
  const migrator = new Migrator({ db, provider: migrationProvider, disableTransactions: true });
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    const { error } = await migrator.migrateToLatest();
    if (error !== undefined) throw error instanceof Error ? error : new Error(`migration failed: ${String(error)}`);
    sqlite.exec('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw error;
  }
}

/** Whether exactly the known migrations have been applied (anything else goes to the Migrator). */
function isUpToDate(sqlite: BetterSqlite3.Database, db: Kysely<any>): boolean {
  const tables = db.withTables<BookkeepingTables>();
  const tableQuery = tables.selectFrom('sqlite_master').select('name').where('type', '=', 'table').where('name', '=', MIGRATION_TABLE).compile();
  if (sqlite.prepare(tableQuery.sql).get(tableQuery.parameters) === undefined) return false;
  const appliedQuery = tables.selectFrom('kysely_migration').select('name').compile();
  const applied = sqlite.prepare(appliedQuery.sql).pluck().all(appliedQuery.parameters) as string[];
  const known = Object.keys(migrations);
  return applied.length === known.length && known.every((name) => applied.includes(name));
}
