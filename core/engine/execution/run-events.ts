import type { EventLevel, EventRecord, EventType, MaterializationRecord } from '../../../storage/storage.ts';

/** Builds event records for one run, stamping the run id and the time. */
export class RunEvents {
  readonly #runId: string;
  readonly #now: () => number;

  constructor(runId: string, now: () => number = Date.now) {
    this.#runId = runId;
    this.#now = now;
  }

  /** A run-level event. */
  run(type: EventType, message: string, level: EventLevel = 'info', data: Record<string, unknown> | null = null): EventRecord {
    return this.make(type, null, null, message, level, data);
  }

  /** An event about one step: an asset, and its partition when the step writes exactly one. */
  step(
    type: EventType,
    key: string,
    partition: string | null,
    message: string,
    level: EventLevel = 'info',
    data: Record<string, unknown> | null = null,
  ): EventRecord {
    return this.make(type, key, partition, message, level, data);
  }

  make(type: EventType, key: string | null, partition: string | null, message: string, level: EventLevel, data: Record<string, unknown> | null): EventRecord {
    return { runId: this.#runId, timestamp: this.#now(), type, level, assetKey: key, partition, message, data };
  }
}

/**
 * What the executor tells of each recorded event: a RunObserver (core/engine/runs/run-observers.ts)
 * as the executor sees it.
 */
export interface RecordedEventListener {
  /** Called synchronously, in order, after each event is recorded; must not throw nor block. */
  onRunEvent(event: EventRecord): void;
  /**
   * Called synchronously with the materializations a step committed, before its events (so a
   * listener need not read them back from storage); must not throw nor block.
   */
  onMaterializations?(records: readonly MaterializationRecord[]): void;
}

/**
 * Tells each listener of recorded `events`, in order (never `step_progress`), after the
 * `materializations` committed with them; one that throws is not the run's problem.
 */
export function tellRecorded(
  listeners: readonly RecordedEventListener[] | undefined,
  events: readonly EventRecord[],
  materializations: readonly MaterializationRecord[] = [],
): void {
  if (listeners === undefined || listeners.length === 0) return;
  if (materializations.length > 0)
    for (const listener of listeners) {
      try {
        listener.onMaterializations?.(materializations);
      } catch {
        // As below.
      }
    }
  for (const event of events) {
    if (event.type === 'step_progress') continue;
    for (const listener of listeners) {
      try {
        listener.onRunEvent(event);
      } catch {
        // A listener must not throw; if one does, the run goes on.
      }
    }
  }
}
