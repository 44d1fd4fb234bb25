/**
 * How a run records its events: appended alone, or committed with a step's materializations,
 * check results and the release of its leases in one storage transaction; once recorded, each
 * event goes to `onEvent` and to the run's observers.
 */
import type { PlanStep } from '../../model/planning/plan.ts';
import type { CheckResultRecord, EventRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import { tellRecorded, type RecordedEventListener } from './run-events.ts';
import type { RunLeases } from './run-leases.ts';

/** The leases a running step holds, and whether its last commit gave them back. */
export interface HeldLeases {
  readonly step: PlanStep;
  released: boolean;
}

/** What a RunRecorder writes to and tells. */
export interface RunRecorderOptions {
  readonly storage: Storage;
  /** The run's leases, given back by a step's commit. */
  readonly leases: RunLeases;
  /** Told of every recorded event (see ExecuteRunOptions.onEvent). */
  readonly onEvent: ((event: EventRecord) => void) | undefined;
  /** Told of every recorded event, with a step's materializations (see ExecuteRunOptions.observers). */
  readonly observers: readonly RecordedEventListener[] | undefined;
}

/** Records one run's events in storage, then tells `onEvent` and the observers of them. */
export class RunRecorder {
  readonly #o: RunRecorderOptions;

  constructor(options: RunRecorderOptions) {
    this.#o = options;
  }

  /** Appends events to the run's log, then tells of them. */
  async append(events: EventRecord[]): Promise<void> {
    await this.#o.storage.appendEvents(events);
    this.told(events);
  }

  /**
   * Tells `onEvent` and the observers of `events` once they are recorded; a step's logs, which
   * `onEvent` already saw live when `logsSeenLive`, go to the observers only.
   */
  told(events: readonly EventRecord[], logsSeenLive = false, materializations?: readonly MaterializationRecord[]): void {
    for (const event of events) if (!(logsSeenLive && event.type === 'log')) this.#o.onEvent?.(event);
    tellRecorded(this.#o.observers, events, materializations);
  }

  /** Records a step's events, materializations and check results; gives back `held` leases in the same transaction. */
  async commit(
    events: readonly EventRecord[],
    materializations?: readonly MaterializationRecord[],
    checkResults: readonly CheckResultRecord[] = [],
    held?: HeldLeases,
  ): Promise<void> {
    const release = held && !held.released ? { releaseLeases: this.#o.leases.releaseOf(held.step) } : {};
    await this.#o.storage.commitStep({
      events,
      ...(materializations ? { materializations } : {}),
      ...(checkResults.length > 0 ? { checkResults } : {}),
      ...release,
    });
    if (held) held.released = true;
    this.told(events, true, materializations);
  }
}
