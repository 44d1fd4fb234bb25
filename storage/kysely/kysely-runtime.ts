/**
 * kysely's runtime values, loaded as CommonJS: the one place storage takes them from.
 *
 * kysely's ES module build is ~260 files; Node 20's ES module loader takes ~2× as long as its
 * CommonJS loader for the same files (≈ 210 ms against ≈ 95 ms on a 2-core machine), and every
 * command that opens storage pays it (bundled into one file by the build, ≈ 40 ms). Types still
 * come from `import type … from 'kysely'` (the same declarations). All of storage imports
 * kysely's values from here, so one process has one copy of kysely.
 */
import { createRequire } from 'node:module';

// The compiled engine finds the bundle bin/engine-build.js writes (dist/node_modules/kysely/, one file).
const kysely = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** kysely's query builder entry point. */
export const Kysely = kysely.Kysely;
/** A kysely instance over the tables `DB` (the class's instance type, as `import('kysely')` names it). */
export type Kysely<DB> = import('kysely').Kysely<DB>;
/** kysely's SQLite dialect (driven by better-sqlite3). */
export const SqliteDialect = kysely.SqliteDialect;
/** kysely's raw SQL template tag. */
export const sql = kysely.sql;
/** kysely's schema migrator. */
export const Migrator = kysely.Migrator;
/** kysely's Postgres dialect (driven by a `pg` pool). */
export const PostgresDialect = kysely.PostgresDialect;
