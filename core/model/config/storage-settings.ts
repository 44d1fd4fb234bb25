/**
 * Storage settings (`"storage"` in strata.json, or `STRATA_STORAGE`): where runs, events,
 * materializations, leases and the rest live. A path is a SQLite file (`".strata/strata.db"`,
 * the default); a `postgres://user@host:port/database` URL is a Postgres database shared by a
 * team; `env:NAME` reads either from the environment variable NAME (the only way to give a URL
 * with a password in strata.json).
 *
 * @example
 * "storage": "env:STRATA_DB_URL"
 */

import { z } from 'zod';
import { ENV_PREFIX } from './resources-config.ts';

/** Default storage file, relative to the project folder. */
export const DEFAULT_STORAGE_PATH = '.strata/strata.db';

const ENV_REFERENCE = /^env:[A-Za-z_][A-Za-z0-9_]*$/;

/** Where the storage is: a SQLite file, or a Postgres database by URL. */
export type StorageLocation = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

/** Whether `value` is a Postgres URL (`postgres://` or `postgresql://`) rather than a file path. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The zod schema of `"storage"`: a path, a Postgres URL without a password, or `env:NAME`. */
export const storageSchema = z
  .string()
  .min(1)
  .default(DEFAULT_STORAGE_PATH)
  .superRefine((value, ctx) => {
    const problem = locationProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * What is wrong with a location written in strata.json (`"storage"` or `"warehouse"`: a path, a
 * Postgres URL without a password, or `env:NAME`), if anything. Never quotes the value.
 */
export function locationProblem(value: string): string | undefined {
  if (value.startsWith(ENV_PREFIX) && !ENV_REFERENCE.test(value)) return 'must be "env:NAME" with NAME a variable name';
  if (!isPostgresUrl(value)) return undefined;
  const problem = postgresUrlProblem(value);
  if (problem !== undefined) return problem;
  if (new URL(value).password !== '') return 'a URL with a password is not written in strata.json: use "env:NAME" and set NAME in the environment';
  return undefined;
}

/**
 * What is wrong with a Postgres URL, if anything. Never quotes the URL: it may hold a password.
 *
 * @example
 * postgresUrlProblem('postgres://db.internal/strata') // undefined
 */
export function postgresUrlProblem(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.hostname === '' && !parsed.searchParams.has('host') ? 'the postgres:// URL names no host' : undefined;
  } catch {
    return 'not a valid postgres:// URL';
  }
}
