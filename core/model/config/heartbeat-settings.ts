/**
 * Heartbeat settings (`"heartbeat"` in strata.json): how often a running run's process records
 * that it is alive (and extends its leases), and after how long without a heartbeat a run
 * counts as dead: its leases may be taken over and `reapDeadRuns` marks it failed.
 * `STRATA_HEARTBEAT_INTERVAL` and `STRATA_HEARTBEAT_TIMEOUT` override the file.
 */

import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { parseDuration } from '../definitions/duration.ts';

/** Heartbeat timing, in milliseconds. */
export interface HeartbeatSettings {
  /** Between two heartbeats of a running run (default 5 s). */
  readonly intervalMs: number;
  /** Without a heartbeat for this long, a run is dead (default 60 s; at least twice the interval). */
  readonly timeoutMs: number;
}

/** The defaults: a heartbeat every 5 s, dead after 60 s. */
export const DEFAULT_HEARTBEAT: HeartbeatSettings = Object.freeze({ intervalMs: 5_000, timeoutMs: 60_000 });

const duration = z.union([z.number(), z.string()]).refine((v) => parseDuration(v) !== undefined && (parseDuration(v) as number) > 0, {
  message: 'must be a positive duration: milliseconds or text such as 500ms, 5s, 1m',
});

/** The zod schema of the `"heartbeat"` field (durations in ms or text). */
export const heartbeatSchema = z.object({ interval: duration.optional(), timeout: duration.optional() }).strict();

/**
 * The settings a validated `"heartbeat"` field and the environment give; `file` names
 * strata.json in errors.
 */
export function resolveHeartbeat(
  raw: z.infer<typeof heartbeatSchema> | undefined,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): HeartbeatSettings {
  const read = (value: unknown, name: string): number | undefined => {
    if (value === undefined || value === '') return undefined;
    const ms = parseDuration(typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
    if (ms === undefined || ms <= 0) throw new ConfigError(`${name}: "${String(value)}" is not a positive duration (milliseconds, or 500ms, 5s, 1m)`, file);
    return ms;
  };
  const intervalMs =
    read(env.STRATA_HEARTBEAT_INTERVAL, 'STRATA_HEARTBEAT_INTERVAL') ?? read(raw?.interval, `${file}: heartbeat.interval`) ?? DEFAULT_HEARTBEAT.intervalMs;
  const timeoutMs =
    read(env.STRATA_HEARTBEAT_TIMEOUT, 'STRATA_HEARTBEAT_TIMEOUT') ??
    read(raw?.timeout, `${file}: heartbeat.timeout`) ??
    Math.max(DEFAULT_HEARTBEAT.timeoutMs, intervalMs * 2);
  if (timeoutMs < intervalMs * 2) {
    throw new ConfigError(
      `${file}: heartbeat.timeout (${timeoutMs} ms) must be at least twice heartbeat.interval (${intervalMs} ms), or live runs would look dead`,
      file,
    );
  }
  return Object.freeze({ intervalMs, timeoutMs });
}
