import type { RunEvents } from './run-events.ts';
import type { PlanStep } from '../../model/planning/plan.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import type { CheckRun } from './check-runner.ts';
import { describeFailure } from './step-checks.ts';

/**
 * One `check_result` event per check a step ran, whether the step then succeeded or a blocking
 * check failed it: `info` when the check passed on every partition, else `warn` or `error` by
 * its severity, naming the violations and (for a step over several partitions) the partitions
 * that did not pass, or DuckDB's error when the check could not run (`data.status` is
 * `passed`, `failed` or `error`).
 */
export function checkEvents(events: RunEvents, step: Pick<PlanStep, 'key' | 'partitions'>, runs: readonly CheckRun[]): EventRecord[] {
  const partition = step.partitions?.length === 1 ? (step.partitions[0] as string) : null;
  return runs.map((run) => {
    const failed = run.results.filter((r) => !r.passed);
    const error = run.results.find((r) => r.error !== undefined)?.error;
    const status = error !== undefined ? 'error' : failed.length === 0 ? 'passed' : 'failed';
    const data = {
      check: run.check.name,
      severity: run.check.severity,
      blocking: run.check.blocking,
      passed: failed.length === 0,
      status,
      violations: failed.reduce((n, r) => n + r.violations, 0),
      ...(partition === null && step.partitions ? { failedPartitions: failed.map((r) => r.partition) } : {}),
      ...(error === undefined ? {} : { error }),
    };
    if (failed.length === 0) return events.step('check_result', step.key, partition, `check ${run.check.name} passed`, 'info', data);
    return events.step('check_result', step.key, partition, `check ${describeFailure(run)}`, run.check.severity === 'error' ? 'error' : 'warn', data);
  });
}
