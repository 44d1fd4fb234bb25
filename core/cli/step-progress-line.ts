import type { EventRecord } from '../../storage/storage.ts';
import { formatDuration } from '../model/format/duration-text.js';
import { stepLabel } from './step-label.ts';

/**
 * The running steps' progress as one short text for a terminal's progress line:
 * `marts/orders 42% (12s, ETA 16s)`, from `step_progress` events; a step drops out when it ends.
 */
export class StepProgressLine {
  readonly #running = new Map<string, { readonly percentage: number; readonly elapsedMs: number }>();

  /** Takes in any run event; returns true when the text changed. */
  update(event: EventRecord): boolean {
    if (event.assetKey === null) return false;
    const label = stepLabel(event);
    if (event.type === 'step_progress') {
      this.#running.set(label, { percentage: Number(event.data?.percentage ?? 0), elapsedMs: Number(event.data?.elapsedMs ?? 0) });
      return true;
    }
    if (event.type === 'step_success' || event.type === 'step_failure' || event.type === 'step_retry') return this.#running.delete(label);
    return false;
  }

  /** Empty when no running step has reported progress. */
  text(): string {
    return [...this.#running].map(([label, p]) => `${label} ${describeProgress(p.percentage, p.elapsedMs)}`).join(' · ');
  }
}

/** `42% (12s, ETA 16s)`; no ETA before the first percent. */
export function describeProgress(percentage: number, elapsedMs: number): string {
  const shown = percentage >= 10 ? Math.floor(percentage) : Math.floor(percentage * 10) / 10;
  const eta = percentage >= 1 ? `, ETA ${formatDuration((elapsedMs * (100 - percentage)) / percentage)}` : '';
  return `${shown}% (${formatDuration(elapsedMs)}${eta})`;
}
