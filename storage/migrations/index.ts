/**
 * Every migration by name, in the order kysely's Migrator applies them (names sort
 * alphabetically). Listed here instead of scanned from disk so bundles and tests need no
 * filesystem access. Never rename or edit an applied migration; add a new one.
 */

import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './0001-initial.ts';
import { backfillProgressMigration } from './0002-backfill-progress.ts';
import { stalenessMigration } from './0003-staleness.ts';
import { runHeartbeatsMigration } from './0004-run-heartbeats.ts';
import { daemonTicksMigration } from './0005-daemon-ticks.ts';
import { checkDependenciesMigration } from './0006-check-dependencies.ts';

/** All migrations, keyed by their stable name. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': initialMigration,
  '0002-backfill-progress': backfillProgressMigration,
  '0003-staleness': stalenessMigration,
  '0004-run-heartbeats': runHeartbeatsMigration,
  '0005-daemon-ticks': daemonTicksMigration,
  '0006-check-dependencies': checkDependenciesMigration,
});

/**
 * A provider for kysely's `Migrator` that serves {@link migrations}.
 *
 * @example
 * new Migrator({ db, provider: migrationProvider }).migrateToLatest()
 */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
