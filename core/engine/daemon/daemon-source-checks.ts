/**
 * The daemon's source checks: a source whose observation at a tick found a new data version has
 * its checks run on its table as it is now (../execution/source-checks.ts), so bad data is told
 * when it arrives, not when a run first reads it. The results are recorded as the checks' results
 * (`assets checks`, `status`, the UI) and the `check_result` events go to the run observers
 * (alerts `check_failure`/`check_warning`); a tick that observed nothing new runs no check. A
 * failing blocking check is a `skipped` decision of the tick, not a failed tick: the runs that
 * read the source check it again and skip its readers while it fails.
 */
import { GONE_DATA_VERSION } from '../../model/definitions/source-asset.ts';
import type { Project } from '../../model/project.ts';
import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import type { ObservationRecord } from '../../../storage/staleness-store.ts';
import type { Storage } from '../../../storage/storage.ts';
import { checkRunSources } from '../execution/source-checks.ts';
import { RunEvents } from '../execution/run-events.ts';
import { tellObservers, type RunObserver } from '../runs/run-observers.ts';
import type { SharedWarehouse } from '../runs/shared-warehouse.ts';
import { daemonTickRunId } from './freshness-misses.ts';

/** What checking the sources a tick saw change works with. */
export interface ChangedSourceChecks {
  readonly project: Project;
  readonly storage: Storage;
  /** Held only while the checks run. */
  readonly warehouse: SharedWarehouse;
  /** The observations the tick recorded with a new data version. */
  readonly changed: readonly ObservationRecord[];
  /** The tick: the events are `daemon-tick-<id>`'s (they belong to no run, and are not stored as events). */
  readonly tickId: number;
  readonly now: Date;
  readonly observers: readonly RunObserver[];
  readonly log?: (line: string) => void;
}

/**
 * Runs the checks of the unpartitioned sources in `changed` (partitioned sources have none; a
 * source now gone has no table to check). Returns the tick's decisions: one `skipped` per source
 * failing a blocking check, or one `error` when the checks could not be run (the warehouse).
 */
export async function checkChangedSources(input: ChangedSourceChecks): Promise<TickDecision[]> {
  const { project, storage, now } = input;
  const { graph } = project;
  const keys = [...new Set(input.changed.filter((o) => o.partition === null && o.dataVersion !== GONE_DATA_VERSION).map((o) => o.assetKey))].filter(
    (key) => graph.spec(key).checks.length > 0 && graph.spec(key).partitions === undefined,
  );
  if (keys.length === 0) return [];
  try {
    const warehouse = await input.warehouse.acquire(new AbortController().signal);
    const checked = await checkRunSources(project, warehouse, keys, new RunEvents(daemonTickRunId(input.tickId)), null, now).finally(() =>
      input.warehouse.release(),
    );
    await storage.commitStep({ events: [], checkResults: checked.results });
    tellObservers(input.observers, checked.events);
    for (const event of checked.events) if (event.level !== 'info') input.log?.(`check_result: ${event.assetKey} ${event.message}`);
    return [...checked.failed].map(([key, error]) => ({
      source: 'daemon',
      name: key,
      action: 'skipped',
      reason: `${error.message}: runs reading it skip its readers while it fails`,
      targets: [],
    }));
  } catch (error) {
    return [{ source: 'daemon', name: 'source checks', action: 'error', reason: `checking sources failed: ${(error as Error).message}`, targets: [] }];
  }
}
