/**
 * Which recorded events are alerts, and of what kind: a failed step (or a run that failed with no
 * failed step) is `run_failure`; a `check_result` that failed or could not run is
 * `check_failure` or `check_warning` by the check's severity; `freshness_miss`, `daemon_error`
 * and `backfill_done` events are alerts of their own kind. Pure: the alert observer applies it.
 */
import type { EventRecord } from '../../../storage/storage.ts';
import type { AlertKind } from '../config/alert-rules.ts';

/** One event as an alert. */
export interface AlertOccurrence {
  readonly kind: AlertKind;
  readonly assetKey: string | null;
  readonly partition: string | null;
  /** The partitions it is about: its partition, or the range a step over several wrote (`null`: none). */
  readonly partitions: { readonly first: string; readonly last: string } | null;
  readonly runId: string;
  readonly timestamp: number;
  readonly message: string;
  /** The error, when the event carries one. */
  readonly error?: string;
  /** How a backfill ended (`backfill_done`). */
  readonly status?: string;
}

/** The event's partition, or the range of a step over several (`data.partitions`: from, to). */
function partitionsOf(event: EventRecord): AlertOccurrence['partitions'] {
  if (event.partition !== null) return { first: event.partition, last: event.partition };
  const range = event.data?.partitions as { from?: unknown; to?: unknown } | undefined;
  return typeof range?.from === 'string' && typeof range.to === 'string' ? { first: range.from, last: range.to } : null;
}

/** The event's error text: `data.error`, else its message. */
function errorOf(event: EventRecord): string {
  const error = event.data?.error;
  return typeof error === 'string' ? error : event.message;
}

/**
 * The alert an event is, or `undefined`. `failedSteps` are the runs that already had a
 * `step_failure`: their `run_failure` says nothing more and is not an alert; nor is the
 * `run_failure` of a dead run that was queued again (`retriedBy`).
 *
 * @example
 * alertOf(stepFailure, new Set()); // { kind: 'run_failure', assetKey: 'marts/daily', partition: '2025-01-01', … }
 */
export function alertOf(event: EventRecord, failedSteps: ReadonlySet<string>): AlertOccurrence | undefined {
  const base = {
    assetKey: event.assetKey,
    partition: event.partition,
    partitions: partitionsOf(event),
    runId: event.runId,
    timestamp: event.timestamp,
    message: event.message,
  };
  switch (event.type) {
    case 'step_failure':
      if (event.data?.canceled === true) return undefined;
      return { ...base, kind: 'run_failure', error: errorOf(event) };
    case 'run_failure':
      // A dead worker's run that is retried has not failed for good: its retry alerts if it fails.
      if (failedSteps.has(event.runId) || typeof event.data?.retriedBy === 'string') return undefined;
      return { ...base, kind: 'run_failure', error: errorOf(event) };
    case 'check_result': {
      const status = event.data?.status;
      if (status !== 'failed' && status !== 'error') return undefined;
      return { ...base, kind: event.data?.severity === 'warn' ? 'check_warning' : 'check_failure', error: status === 'error' ? errorOf(event) : event.message };
    }
    case 'freshness_miss':
      return { ...base, kind: 'freshness_miss' };
    case 'daemon_error':
      return { ...base, kind: 'daemon_error', error: errorOf(event) };
    case 'backfill_done':
      return {
        ...base,
        kind: 'backfill_done',
        status: String(event.data?.status),
        ...(typeof event.data?.error === 'string' ? { error: event.data.error } : {}),
      };
    default:
      return undefined;
  }
}
