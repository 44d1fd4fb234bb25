/**
 * Every migration by name, in the order kysely's Migrator applies them (names sort
 * alphabetically), for SQLite and for Postgres: each migration is written once against a
 * {@link SchemaDialect} (see ./schema-dialect.ts) and the same names are applied to both.
 * Listed here instead of scanned from disk so bundles and tests need no filesystem access.
 * Never rename or edit an applied migration; add a new one.
 */

import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './0001-initial.ts';
import { backfillProgressMigration } from './0002-backfill-progress.ts';
import { stalenessMigration } from './0003-staleness.ts';
import { runHeartbeatsMigration } from './0004-run-heartbeats.ts';
import { daemonTicksMigration } from './0005-daemon-ticks.ts';
import { checkDependenciesMigration } from './0006-check-dependencies.ts';
import { runRequestsMigration } from './0007-run-requests.ts';
import { daemonLockMigration } from './0008-daemon-lock.ts';
import { columnLineageMigration } from './0009-column-lineage.ts';
import { runPoolsMigration } from './0010-run-pools.ts';
import { freshnessEpisodesMigration } from './0011-freshness-episodes.ts';
import { alertDeliveriesMigration } from './0012-alert-deliveries.ts';
import { POSTGRES_SCHEMA, SQLITE_SCHEMA, type SchemaDialect } from './schema-dialect.ts';

const ALL: readonly (readonly [name: string, migration: (d: SchemaDialect) => Migration])[] = [
  ['0001-initial', initialMigration],
  ['0002-backfill-progress', backfillProgressMigration],
  ['0003-staleness', stalenessMigration],
  ['0004-run-heartbeats', runHeartbeatsMigration],
  ['0005-daemon-ticks', daemonTicksMigration],
  ['0006-check-dependencies', checkDependenciesMigration],
  ['0007-run-requests', runRequestsMigration],
  ['0008-daemon-lock', daemonLockMigration],
  ['0009-column-lineage', columnLineageMigration],
  ['0010-run-pools', runPoolsMigration],
  ['0011-freshness-episodes', freshnessEpisodesMigration],
  ['0012-alert-deliveries', alertDeliveriesMigration],
];

/** Every migration in dialect `d`, keyed by its stable name. */
export function migrationsFor(d: SchemaDialect): Readonly<Record<string, Migration>> {
  return Object.freeze(Object.fromEntries(ALL.map(([name, migration]) => [name, migration(d)])));
}

/** All SQLite migrations, keyed by their stable name. */
export const migrations: Readonly<Record<string, Migration>> = migrationsFor(SQLITE_SCHEMA);

/** All Postgres migrations: the same names as {@link migrations}. */
export const postgresMigrations: Readonly<Record<string, Migration>> = migrationsFor(POSTGRES_SCHEMA);

/**
 * A provider for kysely's `Migrator` that serves the SQLite {@link migrations}.
 *
 * @example
 * new Migrator({ db, provider: migrationProvider }).migrateToLatest()
 */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};

/** A provider for kysely's `Migrator` that serves {@link postgresMigrations}. */
export const postgresMigrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...postgresMigrations }),
};
