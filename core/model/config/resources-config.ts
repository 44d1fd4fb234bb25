/**
 * The `"resources"` of strata.json: named connections that assets use through `ctx.resources`.
 * Secrets never live in the project: a password (or a URL carrying one) must be `env:NAME`, read
 * from the environment when the resource first connects.
 *
 * @example
 * "resources": {
 *   "shop_db": { "type": "postgres", "url": "env:SHOP_DB_URL" },
 *   "crm": { "type": "postgres", "host": "db.internal", "database": "crm", "user": "etl", "password": "env:CRM_PASSWORD" }
 * }
 */
import { z } from 'zod';
import { ResourceError } from '../errors.ts';

/** A value written as `env:NAME` is read from the environment variable NAME. */
export const ENV_PREFIX = 'env:';

const ENV_REFERENCE = /^env:[A-Za-z_][A-Za-z0-9_]*$/;
const RESOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const settingSchema = z.string().min(1);
const numberOrEnv = z.union([z.number().int().min(1).max(65535), z.string().regex(ENV_REFERENCE, 'must be a number or "env:NAME"')]);

const postgresSchema = z
  .object({
    type: z.literal('postgres'),
    /** `postgres://user@host:port/db`, or `env:NAME` (the only way to give a URL with a password). */
    url: settingSchema.optional(),
    host: settingSchema.optional(),
    port: numberOrEnv.optional(),
    database: settingSchema.optional(),
    user: settingSchema.optional(),
    password: z.string().regex(ENV_REFERENCE, 'a password is not written in strata.json: use "env:NAME" and set NAME in the environment').optional(),
    /** Connections open at once (default 4). */
    maxConnections: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.url !== undefined && !value.url.startsWith(ENV_PREFIX) && urlHasPassword(value.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'a URL with a password is not written in strata.json: use "env:NAME" and set NAME in the environment',
      });
    }
    if (value.url?.startsWith(ENV_PREFIX) && !ENV_REFERENCE.test(value.url)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'must be "env:NAME" with NAME a variable name' });
    }
  });

/** A Postgres resource as written in strata.json (values may still be `env:NAME`). */
export type PostgresResourceConfig = z.infer<typeof postgresSchema>;

/** Any resource of strata.json (Postgres only, for now). */
export type ResourceConfig = PostgresResourceConfig;

/** The zod schema of `"resources"`. */
export const resourcesSchema = z.record(
  z.string().regex(RESOURCE_NAME, 'a resource name is a letter or _ followed by letters, digits or _'),
  z.discriminatedUnion('type', [postgresSchema]),
);

function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/**
 * A setting as the environment gives it: `env:NAME` is the variable NAME (an error naming the
 * variable and the resource when it is not set), anything else is itself.
 */
export function resolveSetting<T>(value: T | string, resource: string, field: string, env: NodeJS.ProcessEnv): T | string {
  if (typeof value !== 'string' || !value.startsWith(ENV_PREFIX)) return value;
  const name = value.slice(ENV_PREFIX.length);
  const found = env[name];
  if (found === undefined || found === '')
    throw new ResourceError('resource_unset', `resource ${resource}: ${field} is "${value}" but the environment variable ${name} is not set`, {}, true);
  return found;
}
