/**
 * Step retry policies: how often a failed step is run again, and how long the executor waits
 * before each retry. A policy is frozen, validated data; an asset's own policy replaces the
 * project default (`"retries"` in strata.json) as a whole.
 *
 * The delay before retry `n` (1-based) is `delay` (constant), `delay × n` (linear) or
 * `delay × 2^(n-1)` (exponential), capped at `maxDelay`; `jitter` (0..1) then takes a random
 * share of up to that fraction off it, so `jitter: 1` ("full jitter") waits anywhere between
 * 0 and the computed delay.
 */

import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { formatDuration } from '../format/duration-text.js';

/** How the delay grows from one retry to the next. */
export type RetryBackoff = 'constant' | 'linear' | 'exponential';

/** A validated retry policy; durations in milliseconds. */
export interface RetryPolicy {
  /** Retries after the first attempt (0: a failure is final). */
  readonly maxRetries: number;
  /** Delay before the first retry. */
  readonly delayMs: number;
  readonly backoff: RetryBackoff;
  /** Fraction (0..1) of each delay that is randomized away; 0 = none, 1 = full jitter. */
  readonly jitter: number;
  /** No delay is longer than this. */
  readonly maxDelayMs: number;
}

/**
 * A retry policy as `asset({ retryPolicy })` and strata.json `"retries"` accept it; durations
 * are milliseconds or text such as `'2s'`.
 *
 * @example
 * { maxRetries: 3, delay: '2s', backoff: 'exponential', jitter: true, maxDelay: '1m' }
 */
export interface RetryPolicyOptions {
  readonly maxRetries: number;
  /** Default `1s`. */
  readonly delay?: number | string;
  /** Default `exponential`. */
  readonly backoff?: RetryBackoff;
  /** `true` = 1 (full jitter), `false` = 0 (default), or a fraction 0..1. */
  readonly jitter?: boolean | number;
  /** Default `5m`. */
  readonly maxDelay?: number | string;
}

/** No retries: the policy when neither the asset nor the project sets one. */
export const NO_RETRIES: RetryPolicy = Object.freeze({ maxRetries: 0, delayMs: 1_000, backoff: 'exponential', jitter: 0, maxDelayMs: 300_000 });

const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use milliseconds or text such as 500ms, 2s, 1m)` });
    return z.NEVER;
  }
  return ms;
});

/** The zod schema of {@link RetryPolicyOptions}; parses to a frozen {@link RetryPolicy}. */
export const retryPolicySchema = z
  .object({
    maxRetries: z.number().int('maxRetries must be a whole number').min(0).max(100),
    delay: durationSchema.optional(),
    backoff: z.enum(['constant', 'linear', 'exponential']).optional(),
    jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
    maxDelay: durationSchema.optional(),
  })
  .strict()
  .transform(
    (o): RetryPolicy =>
      Object.freeze({
        maxRetries: o.maxRetries,
        delayMs: o.delay ?? NO_RETRIES.delayMs,
        backoff: o.backoff ?? NO_RETRIES.backoff,
        jitter: o.jitter === true ? 1 : o.jitter === false || o.jitter === undefined ? 0 : o.jitter,
        maxDelayMs: o.maxDelay ?? NO_RETRIES.maxDelayMs,
      }),
  );

/**
 * Milliseconds to wait before retry number `retry` (1 for the first retry), with `random`
 * giving a number in [0, 1) for the jitter.
 *
 * @example
 * retryDelayMs({ maxRetries: 3, delayMs: 1000, backoff: 'exponential', jitter: 0, maxDelayMs: 60000 }, 3); // 4000
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const n = Math.max(1, retry);
  const grown = policy.backoff === 'constant' ? policy.delayMs : policy.backoff === 'linear' ? policy.delayMs * n : policy.delayMs * 2 ** (n - 1);
  const capped = Math.min(grown, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/**
 * Reads the `retries` field of a SQL header into {@link RetryPolicyOptions}: a retry count,
 * then optional `delay=`, `backoff=`, `max_delay=` and `jitter` (alone for full jitter, or
 * `jitter=0.5`). Throws an Error whose message names the bad part.
 *
 * @example
 * parseRetriesText('3 delay=2s backoff=exponential jitter max_delay=1m');
 */
export function parseRetriesText(text: string): RetryPolicyOptions {
  const [count, ...settings] = text
    .trim()
    .split(/[\s,]+/)
    .filter((part) => part !== '');
  if (count === undefined || !/^\d+$/.test(count)) {
    throw new Error(`retries must start with a number of retries, e.g. "3 delay=2s backoff=exponential jitter", not "${text.trim()}"`);
  }
  const options: { -readonly [K in keyof RetryPolicyOptions]: RetryPolicyOptions[K] } = { maxRetries: Number(count) };
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    const name = (eq === -1 ? setting : setting.slice(0, eq)).toLowerCase();
    const value = eq === -1 ? undefined : setting.slice(eq + 1);
    if (name === 'jitter') options.jitter = value === undefined ? true : Number(value);
    else if (name === 'delay' && value !== undefined) options.delay = value;
    else if ((name === 'max_delay' || name === 'maxdelay') && value !== undefined) options.maxDelay = value;
    else if (name === 'backoff' && value !== undefined) options.backoff = value as RetryBackoff;
    else
      throw new Error(
        `retries: unknown or incomplete setting "${setting}" (use delay=2s, backoff=constant|linear|exponential, max_delay=1m, jitter or jitter=0.5)`,
      );
  }
  if (typeof options.jitter === 'number' && Number.isNaN(options.jitter))
    throw new Error('retries: jitter must be a fraction between 0 and 1, e.g. jitter=0.5');
  return options;
}

/** `3 retries, 2s exponential backoff (max 1m), full jitter`: a policy in words, for messages. */
export function describeRetryPolicy(policy: RetryPolicy): string {
  if (policy.maxRetries === 0) return 'no retries';
  const jitter = policy.jitter === 0 ? '' : policy.jitter === 1 ? ', full jitter' : `, ${policy.jitter} jitter`;
  return `${policy.maxRetries} retr${policy.maxRetries === 1 ? 'y' : 'ies'}, ${formatDuration(policy.delayMs)} ${policy.backoff} backoff (max ${formatDuration(policy.maxDelayMs)})${jitter}`;
}
