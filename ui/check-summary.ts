/**
 * One line per check for `GET /api/assets/KEY`: the latest result of a check on each partition,
 * summed up, so an asset with a year of daily partitions answers with a few hundred bytes per
 * check instead of every partition's SQL and failing rows (those are paged by
 * `GET /api/history/KEY`).
 */
import type { CheckSpec } from '../core/model/definitions/check-spec.ts';
import type { CheckResultRecord } from '../storage/storage.ts';

/**
 * What a check's latest results add up to: `error` (it could not run somewhere), `failed` (an
 * error check fails somewhere), `warned`, `passed`, or `not run`.
 */
export type CheckOutcome = 'not run' | 'passed' | 'warned' | 'failed' | 'error';

/** The newest result of a check, without its SQL and sample rows. */
export interface CheckResultBrief {
  readonly partition: string | null;
  readonly passed: boolean;
  readonly violations: number;
  readonly runId: string | null;
  readonly timestamp: number;
}

/** One check of an asset and the sum of its latest result on every partition. */
export interface CheckSummary {
  readonly name: string;
  readonly severity: string;
  readonly blocking: boolean;
  readonly outcome: CheckOutcome;
  /** Partitions (1 when unpartitioned) with a result. */
  readonly results: number;
  /** Of those, how many failed. */
  readonly failing: number;
  /** Violations summed over the failing ones. */
  readonly violations: number;
  readonly lastRunAt: number | null;
  readonly latest: CheckResultBrief | null;
  /** The newest failing result, whole (SQL and sample rows), or `null` when none fails. */
  readonly failingExample: CheckResultRecord | null;
  /** DuckDB's message when the check could not run (newest such result), else `null`. */
  readonly error: string | null;
}

/**
 * Sums up `latest` (the latest result per check and partition) for each check in `defined`, in
 * order, then for checks that have results but are no longer defined.
 *
 * @example
 * summarizeChecks(spec.checks, await storage.latestCheckResults([key]));
 */
export function summarizeChecks(defined: readonly Pick<CheckSpec, 'name' | 'severity' | 'blocking'>[], latest: readonly CheckResultRecord[]): CheckSummary[] {
  const byName = new Map<string, CheckResultRecord[]>();
  for (const result of latest) byName.set(result.checkName, [...(byName.get(result.checkName) ?? []), result]);
  const gone = [...byName.keys()].filter((name) => !defined.some((check) => check.name === name)).sort();
  const checks = [...defined, ...gone.map((name) => ({ name, severity: byName.get(name)?.[0]?.severity ?? 'error', blocking: false }))];
  return checks.map((check) => summarize(check, byName.get(check.name) ?? []));
}

function summarize(check: Pick<CheckSpec, 'name' | 'severity' | 'blocking'>, results: readonly CheckResultRecord[]): CheckSummary {
  const newest = (list: readonly CheckResultRecord[]) =>
    list.reduce<CheckResultRecord | null>((a, r) => (a === null || r.timestamp > a.timestamp ? r : a), null);
  const failed = results.filter((r) => !r.passed);
  const latest = newest(results);
  const errored = newest(results.filter((r) => r.error !== undefined));
  const outcome: CheckOutcome =
    results.length === 0 ? 'not run' : errored ? 'error' : failed.length === 0 ? 'passed' : failed.some((r) => r.severity === 'error') ? 'failed' : 'warned';
  return {
    name: check.name,
    severity: check.severity,
    blocking: check.blocking,
    outcome,
    results: results.length,
    failing: failed.length,
    violations: failed.reduce((n, r) => n + r.violations, 0),
    lastRunAt: latest?.timestamp ?? null,
    latest: latest && { partition: latest.partition, passed: latest.passed, violations: latest.violations, runId: latest.runId, timestamp: latest.timestamp },
    failingExample: newest(failed),
    error: errored?.error ?? null,
  };
}
