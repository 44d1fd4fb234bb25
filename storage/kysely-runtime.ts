/**
 * kysely's runtime values, loaded as CommonJS: the one place storage takes them from.
 *
 * kysely's ES module build is ~260 files; Node 20's ES module loader takes ~2× as long as its
 * CommonJS loader for the same files (≈ 210 ms against ≈ 95 ms on a 2-core machine), and
 * every command that opens storage pays it; bundled into one file, ≈ 40 ms. Types still come from `import type … from 'kysely'`
 * (they are the same declarations). All of storage imports kysely's values from here, so one
 * process has one copy of kysely.
 */
import { createRequire } from 'node:module';

const kysely = loadKysely();

/**
 * The compiled engine's build bundles kysely into one file beside this module (bin/engine-build.js:
 * it loads ~3× as fast again); from source, or without the bundle, kysely as installed.
 */
function loadKysely(): typeof import('kysely') {
  const require = createRequire(import.meta.url);
  try {
    return require('./kysely.bundle.cjs') as typeof import('kysely');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    return require('kysely') as typeof import('kysely');
  }
}

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
