/**
 * Validation of paging options shared by both storage implementations.
 */

import { UsageError } from '../core/model/errors.ts';
import type { Page } from './storage.ts';

/** A validated page: `limit` undefined means no limit. */
export interface NormalizedPage {
  readonly limit: number | undefined;
  readonly offset: number;
}

/**
 * Checks `limit` and `offset` are non-negative integers.
 *
 * @example
 * normalizePage({ limit: 20 }) // { limit: 20, offset: 0 }
 */
export function normalizePage(page: Page | undefined): NormalizedPage {
  const limit = page?.limit;
  const offset = page?.offset ?? 0;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new UsageError(`limit must be a non-negative integer, got ${limit}`, 'limit');
  }
  if (!(Number.isInteger(offset) && offset >= 0)) {
    throw new UsageError(`offset must be a non-negative integer, got ${offset}`, 'offset');
  }
  return { limit, offset };
}

/** The items of `items` (already in page order) that fall in `page`. */
export function slicePage<T>(items: readonly T[], page: NormalizedPage): T[] {
  return items.slice(page.offset, page.limit === undefined ? undefined : page.offset + page.limit);
}
