import type { EventLevel, EventRecord, EventType } from '../../../storage/storage.ts';

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
