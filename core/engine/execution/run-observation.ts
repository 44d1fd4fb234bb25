/**
 * The start of a run: observing the source assets its steps read, with the sources' retry
 * policies. Every retry and a final failure are events of the run; a source that cannot be
 * observed skips the steps that read it (and what waits on them), with the cause.
 */
import { formatDuration } from '../../model/format/duration-text.js';
import type { StrataError } from '../../model/errors.ts';
import type { Project } from '../../model/project.ts';
import { observeSources } from '../staleness/observe-sources.ts';
import type { EventRecord, Storage } from '../../../storage/storage.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import type { RunEvents } from './run-events.ts';
import type { RunTiming } from '../../model/run-timing.ts';
import type { ResourceSet } from '../../../resources/resource-set.ts';
import type { WarehouseReader } from '../../model/definitions/source-asset.ts';
import { messageOf } from './step-helpers.ts';

/** What {@link observeRunSources} needs from the run. */
export interface RunObservationOptions {
  readonly project: Project;
  readonly storage: Storage;
  readonly landing: LandingZone;
  /** The source assets the run's steps read. */
  readonly sources: readonly string[];
  readonly now: Date;
  readonly signal?: AbortSignal;
  /** The run's resources (closed by the run). */
  readonly resources: ResourceSet;
  /** The run's warehouse, which `ctx.warehouse` reads (a dbt source's table). */
  readonly warehouse: WarehouseReader;
  readonly timing: RunTiming;
  readonly events: RunEvents;
  /** Records events in the run's log (and shows them). */
  readonly append: (events: EventRecord[]) => Promise<void>;
}

/**
 * Observes `sources`, recording what `observe` logs, each retry (`observation_retry`) and each
 * source that could not be observed (`observation_failure`). Returns the sources that could not
 * be observed, with their errors. Throws only when the run is canceled meanwhile.
 */
export async function observeRunSources(options: RunObservationOptions): Promise<Map<string, StrataError>> {
  const { events, append } = options;
  const unobserved = new Map<string, StrataError>();
  const logs: EventRecord[] = [];
  try {
    await observeSources({
      project: options.project,
      storage: options.storage,
      landing: options.landing,
      keys: options.sources,
      now: options.now,
      resources: options.resources,
      warehouse: options.warehouse,
      onLog: (key, level, message) => logs.push(events.step('log', key, null, message, level)),
      sleep: (ms, signal) => options.timing.sleep(ms, signal),
      random: () => options.timing.random(),
      onRetry: ({ key, ...retry }) => {
        const message = `observing ${key} failed (attempt ${retry.attempt} of ${retry.maxAttempts}), retrying in ${formatDuration(retry.delayMs)}: ${retry.error}`;
        return append([...logs.splice(0), events.step('observation_retry', key, null, message, 'warn', retry)]);
      },
      onFailure: ({ key, attempts, error }) => {
        unobserved.set(key, error);
        const data = { error: messageOf(error.cause ?? error), attempts };
        return append([...logs.splice(0), events.step('observation_failure', key, null, error.message, 'error', data)]);
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    if (logs.length > 0) await append(logs);
  }
  return unobserved;
}

/**
 * Why each of `keys` cannot run: it reads a source in `unobserved`
 * (`source landing/db could not be observed: <cause>`).
 */
export function unobservedReasons(project: Project, keys: readonly string[], unobserved: ReadonlyMap<string, StrataError>): Map<string, string> {
  const reasons = new Map<string, string>();
  if (unobserved.size === 0) return reasons;
  for (const key of keys) {
    const source = project.graph.parents(key).find((parent) => unobserved.has(parent));
    const error = source === undefined ? undefined : unobserved.get(source);
    if (error !== undefined) reasons.set(key, `source ${source} could not be observed: ${messageOf(error.cause ?? error)}`);
  }
  return reasons;
}
