/**
 * Small pieces of the executor: cancellation of a step's work, step labels for events, and
 * the ready-queue order.
 */
import type { PlanStep } from '../../model/planning/plan.ts';
import type { MaterializationRecord } from '../../../storage/storage.ts';

/** A step stopped because its run was canceled. */
export class CanceledError extends Error {}

/** Settles with `work`, or rejects with {@link CanceledError} as soon as `signal` aborts (a step that ignores it cannot hold the run). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new CanceledError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CanceledError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The partition of a step that writes exactly one, else `null`. */
export function single(step: PlanStep): string | null {
  return step.partitions?.length === 1 ? (step.partitions[0] as string) : null;
}

/** Event data naming a step's partition range, when it has several. */
export function rangeData(step: PlanStep): Record<string, unknown> {
  const p = step.partitions;
  return p && p.length > 1 ? { partitions: { from: p[0], to: p.at(-1), count: p.length } } : {};
}

/** The rows of a range step's partitions together, when every one is known. */
export function sumRows(materializations: readonly MaterializationRecord[]): number | undefined {
  if (materializations.length < 2 || materializations.some((m) => m.rowCount === null)) return undefined;
  return materializations.reduce((sum, m) => sum + (m.rowCount ?? 0), 0);
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
