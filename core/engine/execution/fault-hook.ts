/**
 * Test-only fault injection: `STRATA_FAULT=<point>` in the environment makes the process kill
 * itself (SIGKILL: no cleanup, no exit handlers) when it reaches that point, so end-to-end tests
 * can crash a real `assets` process exactly where a crash is hardest to survive. Points:
 *
 * - `after-warehouse-commit`: a step's DuckDB transaction has committed, its storage record is
 *   not written yet.
 *
 * Not a user feature: leave `STRATA_FAULT` unset.
 */

/** A place in the code where a test may crash the process. */
export type FaultPoint = 'after-warehouse-commit';

/** Kills the process at once when `STRATA_FAULT` names `point`; otherwise does nothing. */
export function faultPoint(point: FaultPoint): void {
  if (process.env.STRATA_FAULT !== point) return;
  process.kill(process.pid, 'SIGKILL');
  process.exit(137); // not reached: SIGKILL cannot be caught
}
