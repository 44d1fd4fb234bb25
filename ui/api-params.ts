import { z } from 'zod';
import { UsageError } from '../core/model/errors.ts';

/**
 * Query-string and path-parameter validation for the JSON API. Every failure becomes a
 * {@link UsageError} naming the parameter, which the error handler turns into HTTP 400.
 */

/** A whole number written in decimal, within `min`..`max`. */
export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** The `:id` path parameter of a run or backfill: a full id or a unique prefix of one. */
export function idParams(noun: 'run' | 'backfill') {
  return z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, `must be a ${noun} id (letters, digits, - and _)`) }).strict();
}

/** A paging limit and offset (`limit` 1..`maxLimit`). */
export function pageParams(defaultLimit: number, maxLimit: number) {
  return {
    limit: intParam(1, maxLimit).default(defaultLimit),
    offset: intParam(0, 1_000_000_000).default(0),
  };
}

/**
 * Validates `input` (a request's `query`, `params` or JSON body) against a strict object schema: unknown
 * parameters, repeated parameters and bad values are all {@link UsageError}s naming the parameter.
 *
 * @example
 * const { limit } = parseParams(z.object(pageParams(50, 500)).strict(), req.query, 'query');
 */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'path' | 'body'): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new UsageError(`invalid ${where} parameters`);
  if (issue.code === 'unrecognized_keys') {
    const name = String(issue.keys[0]);
    throw new UsageError(`unknown ${noun(where)} "${name}"`, name);
  }
  const name = String(issue.path[0] ?? '');
  const given = (input as Record<string, unknown> | undefined)?.[name];
  const shown =
    typeof given === 'string' ? `, got "${given.length > 80 ? `${given.slice(0, 80)}…` : given}"` : Array.isArray(given) ? ' (given more than once)' : '';
  const message = issue.code === 'invalid_type' && Array.isArray(given) ? 'must be given once' : issue.message;
  throw new UsageError(`${noun(where)} "${name}" ${message}${shown}`, name);
}

function noun(where: 'query' | 'path' | 'body'): string {
  return where === 'body' ? 'body field' : `${where} parameter`;
}
