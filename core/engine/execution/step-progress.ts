/**
 * Progress inside a long step: while a step runs, its warehouse session is asked every second
 * how far DuckDB has got with the statement in flight, and each new figure becomes a
 * `step_progress` event. These events are live only (progress lines, the UI's run page): they go
 * to `onEvent` listeners and are never stored.
 */

import type { QueryProgress } from '../../../resources/warehouse.ts';
import type { EventRecord } from '../../../storage/storage.ts';
import type { RunEvents } from './run-events.ts';
import type { RunTiming } from '../../model/run-timing.ts';

/** At most one `step_progress` event per step per this many milliseconds. */
export const STEP_PROGRESS_INTERVAL_MS = 1_000;

/** What {@link watchStepProgress} watches and where its events go. */
export interface StepProgressWatch {
  readonly session: { progress(): QueryProgress | undefined };
  readonly events: RunEvents;
  readonly key: string;
  readonly partition: string | null;
  /** Extra event data identifying the step (its partition range). */
  readonly stepData: Readonly<Record<string, unknown>>;
  readonly timing: Pick<RunTiming, 'every' | 'now'>;
  readonly emit: (event: EventRecord) => void;
}

/**
 * Starts polling `session` for progress; returns the function that stops it. An event is sent
 * only when DuckDB has an estimate and it moved since the last one sent.
 *
 * @example
 * const stop = watchStepProgress({ session, events, key, partition, stepData: {}, timing, emit: onEvent });
 * try { await computeStep(...); } finally { stop(); }
 */
export function watchStepProgress(watch: StepProgressWatch): () => void {
  const started = watch.timing.now();
  let last: number | undefined;
  return watch.timing.every(STEP_PROGRESS_INTERVAL_MS, () => {
    const progress = watch.session.progress();
    if (progress === undefined || progress.percentage === last) return;
    last = progress.percentage;
    const percentage = Math.round(progress.percentage * 10) / 10;
    const data = { ...watch.stepData, ...progress, percentage, elapsedMs: watch.timing.now() - started };
    watch.emit(watch.events.step('step_progress', watch.key, watch.partition, `${watch.key} ${percentage}%`, 'debug', data));
  });
}
