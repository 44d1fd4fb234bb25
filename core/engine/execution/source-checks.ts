/**
 * Checks of source assets (a dbt source table's tests): a source is observed, not written, so its
 * checks run on its table as it is, once it was observed at the start of a run that reads it. A
 * failing blocking check (severity `error`) stops the steps reading the source, as a source that
 * could not be observed does: what is built from bad input is not published.
 */
import { StrataError } from '../../model/errors.ts';
import type { Project } from '../../model/project.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import type { CheckResultRecord, EventRecord } from '../../../storage/storage.ts';
import { runChecks, type CheckRun } from './check-runner.ts';
import { checkEvents } from './check-events.ts';
import type { RunEvents } from './run-events.ts';
import { describeFailure } from './step-checks.ts';

/** What checking a run's sources found: events and results to record, and the sources whose blocking checks failed. */
export interface SourceCheckOutcome {
  readonly events: readonly EventRecord[];
  readonly results: readonly CheckResultRecord[];
  /** Per source whose blocking check failed (or could not run): why, naming the checks. */
  readonly failed: ReadonlyMap<string, StrataError>;
}

/** The checks of an unpartitioned source asset, run on its table as it is now (the session is rolled back). */
export async function checkSource(project: Project, warehouse: Warehouse, key: string, runId: string | null, now: Date): Promise<CheckRun[]> {
  const spec = project.graph.spec(key);
  const session = warehouse.session(key);
  try {
    return await runChecks(spec.checks, {
      key,
      table: session.tableOf(key),
      session,
      tableOf: (k) => session.tableOf(k),
      partitions: [null],
      history: { partitionKeys: [], rowCounts: new Map(), previousCounts: [] },
      runId,
      now,
    });
  } finally {
    await session.rollback();
  }
}

/**
 * Runs the checks of `sources` (observed by this run; partitioned sources have none), one
 * `check_result` event per check, and says which sources failed a blocking check. `runId` is
 * the results' run (`null`: no run, a daemon tick's).
 */
export async function checkRunSources(
  project: Project,
  warehouse: Warehouse,
  sources: readonly string[],
  events: RunEvents,
  runId: string | null,
  now: Date,
): Promise<SourceCheckOutcome> {
  const recorded: EventRecord[] = [];
  const results: CheckResultRecord[] = [];
  const failed = new Map<string, StrataError>();
  for (const key of sources) {
    const spec = project.graph.spec(key);
    if (spec.checks.length === 0 || spec.partitions !== undefined) continue;
    const runs = await checkSource(project, warehouse, key, runId, now);
    recorded.push(...checkEvents(events, { key, partitions: null }, runs));
    results.push(...runs.flatMap((r) => r.results));
    const blocking = runs.filter((r) => r.check.blocking && r.results.some((result) => !result.passed));
    if (blocking.length > 0)
      failed.set(
        key,
        new StrataError(
          'check_failed',
          `source ${key} failed blocking check${blocking.length === 1 ? '' : 's'} ${blocking.map(describeFailure).join('; ')}`,
          {
            assetKey: key,
          },
          false,
        ),
      );
  }
  return { events: recorded, results, failed };
}

/** Why each of `keys` cannot run: it reads a source in `failed` (`source raw/events failed blocking check …`). */
export function sourceCheckReasons(project: Project, keys: readonly string[], failed: ReadonlyMap<string, StrataError>): Map<string, string> {
  const reasons = new Map<string, string>();
  if (failed.size === 0) return reasons;
  for (const key of keys) {
    const source = project.graph.parents(key).find((parent) => failed.has(parent));
    if (source !== undefined) reasons.set(key, (failed.get(source) as StrataError).message);
  }
  return reasons;
}
