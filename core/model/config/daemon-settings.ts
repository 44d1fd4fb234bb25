/**
 * Daemon settings (`"daemon"` in strata.json): how often the daemon ticks, how many runs it
 * keeps going at once, and the concurrency pools assets run in. A run holds a slot of every
 * pool its assets belong to for as long as it runs; the default pool, `warehouse`, has one
 * slot on a DuckDB warehouse (one run writes the file at a time) and none on a Postgres one
 * (see ./concurrency-pools.ts).
 */

import { z } from 'zod';

/** The pool of assets that name none: the project's one DuckDB warehouse. */
export const DEFAULT_POOL = 'warehouse';

/** Validated daemon settings. */
export interface DaemonSettings {
  /** Seconds between two ticks (default 30). */
  readonly tickSeconds: number;
  /** Runs going at once, across pools (default 2). */
  readonly maxConcurrentRuns: number;
  /** Slots per pool; a pool not listed has one slot (but see `poolLimit` in ./concurrency-pools.ts). */
  readonly pools: Readonly<Record<string, number>>;
}

/** The defaults: a tick every 30 s, at most 2 runs, one slot per pool. */
export const DEFAULT_DAEMON_SETTINGS: DaemonSettings = Object.freeze({ tickSeconds: 30, maxConcurrentRuns: 2, pools: Object.freeze({}) });

/** The zod schema of the `"daemon"` field. */
export const daemonSettingsSchema = z
  .object({
    tickSeconds: z.number().positive().max(86_400).optional(),
    maxConcurrentRuns: z.number().int().min(1).max(64).optional(),
    pools: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'pool names use letters, digits, _ . -'), z.number().int().min(1).max(64)).optional(),
  })
  .strict();

/** Settings from a validated `"daemon"` field, defaults filled in. */
export function resolveDaemonSettings(raw: z.infer<typeof daemonSettingsSchema> | undefined): DaemonSettings {
  return Object.freeze({
    tickSeconds: raw?.tickSeconds ?? DEFAULT_DAEMON_SETTINGS.tickSeconds,
    maxConcurrentRuns: raw?.maxConcurrentRuns ?? DEFAULT_DAEMON_SETTINGS.maxConcurrentRuns,
    pools: Object.freeze({ ...(raw?.pools ?? {}) }),
  });
}
