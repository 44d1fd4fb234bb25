/**
 * Freshness policies: how old an asset's newest data may get before it is overdue. Declared
 * per asset, as `-- freshness: 26h` in a SQL header or `asset({ freshnessPolicy: { maxLag: '26h' } })`;
 * what "old" means for each kind of partitioning is computed in core/model/freshness/asset-freshness.ts.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A validated freshness policy: the most the asset's data may lag behind the clock, in milliseconds (> 0). */
export interface FreshnessPolicy {
  readonly maxLagMs: number;
}

/**
 * A freshness policy as `asset({ freshnessPolicy })` accepts it: `maxLag` in milliseconds or as
 * text with a unit (`'26h'`, `'90m'`, `'2d'`).
 *
 * @example
 * { maxLag: '26h' }
 */
export interface FreshnessPolicyOptions {
  readonly maxLag: number | string;
}

/** The zod schema of {@link FreshnessPolicyOptions}; parses to a frozen {@link FreshnessPolicy}. */
export const freshnessPolicySchema = z
  .object({
    maxLag: z.union([z.number(), z.string()]).transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: ms === 0 ? `maxLag must be more than 0, not "${value}"` : `"${value}" is not a duration (use milliseconds or text such as 90m, 26h, 2d)`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  })
  .strict()
  .transform((o): FreshnessPolicy => Object.freeze({ maxLagMs: o.maxLag }));
