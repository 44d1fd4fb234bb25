import { NotFoundError, UsageError } from '../errors.ts';

/**
 * The one record a user-typed id names: an exact match, else the only record whose id starts
 * with it. None is a NotFoundError, several an ambiguity UsageError listing them.
 *
 * @example
 * pickByPrefix(await storage.findRunsByPrefix('3f2a'), '3f2a', 'run', 'RUN_ID')
 */
export function pickByPrefix<T extends { readonly id: string }>(matches: readonly T[], id: string, noun: 'run' | 'backfill', argument: string): T {
  const exact = matches.find((m) => m.id === id);
  if (exact) return exact;
  if (matches.length === 0) throw new NotFoundError(`no ${noun} with id "${id}" (see assets ${noun}s list)`);
  if (matches.length > 1) throw new UsageError(`${noun} id "${id}" is ambiguous: ${matches.map((m) => m.id.slice(0, 12)).join(', ')}`, argument);
  return matches[0] as T;
}
