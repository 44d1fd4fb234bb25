import type { StepOutcome } from '../engine/execution/executor.ts';
import type { EventRecord } from '../../storage/storage.ts';
import { formatCount, formatDuration, type Output } from './output.ts';
import { StepProgressLine } from './step-progress-line.ts';

/**
 * Backfill progress. On a terminal: one bar redrawn in place (partitions done/failed/total,
 * rate, ETA). Elsewhere (CI logs, pipes): one line per finished step.
 */
export class ProgressReporter {
  readonly #out: Output;
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #started = performance.now();
  #total = 0;
  #done = 0;
  #failed = 0;
  #lastDraw = 0;
  readonly #running = new StepProgressLine();

  constructor(out: Output, stream: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  /** Sets the number of asset partitions to write. */
  start(total: number): void {
    this.#total = total;
    this.#draw(true);
  }

  /** Counts a finished step and shows it. */
  step(outcome: StepOutcome): void {
    const partitions = outcome.partitions?.length ?? 1;
    if (outcome.status === 'success') this.#done += partitions;
    else if (outcome.status === 'failed') this.#failed += partitions;
    if (this.#tty) {
      if (outcome.status === 'failed') this.#printAbove(`${this.#out.paint('red', '✗')} ${outcome.id}: ${outcome.error ?? ''}`);
      this.#draw(false);
      return;
    }
    const mark = outcome.status === 'success' ? '✓' : outcome.status === 'failed' ? '✗' : '-';
    const rows = typeof outcome.rowCount === 'number' ? `${formatCount(outcome.rowCount)} row${outcome.rowCount === 1 ? '' : 's'}` : '';
    const detail = outcome.status === 'success' ? `${rows} ${formatDuration(outcome.durationMs)}`.trim() : (outcome.error ?? outcome.status);
    this.#out.line(`${mark} ${outcome.id}  ${detail}  [${this.#done + this.#failed}/${this.#total}]`);
  }

  /** Takes in a run event: on a terminal, the running steps' `step_progress` show at the bar's end. */
  event(event: EventRecord): void {
    if (this.#running.update(event) && event.type === 'step_progress') this.#draw(true);
  }

  /** Shows a line that is not a step (a source's observation failing): above the bar on a terminal. */
  note(text: string): void {
    if (this.#tty) this.#printAbove(text);
    else this.#out.line(text);
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.#tty) {
      this.#draw(true);
      this.#stream.write('\n');
    }
  }

  /** `[#####.....] 120/365 partitions · 1 failed · 40.1/s · ETA 6s · raw/orders@2025-01-03 42% (12s, ETA 16s)` */
  line(): string {
    const finished = this.#done + this.#failed;
    const width = 24;
    const filled = this.#total === 0 ? width : Math.round((finished / this.#total) * width);
    const elapsed = (performance.now() - this.#started) / 1000;
    const rate = elapsed > 0 ? finished / elapsed : 0;
    const eta = rate > 0 ? formatDuration(((this.#total - finished) / rate) * 1000) : '-';
    const failed = this.#failed > 0 ? ` · ${this.#out.paint('red', `${this.#failed} failed`)}` : '';
    const running = this.#running.text();
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${this.#total} partitions${failed} · ${rate.toFixed(1)}/s · ETA ${eta}${running === '' ? '' : ` · ${running}`}`;
  }

  #draw(force: boolean): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#stream.write(`\r\u001b[2K${this.line()}`);
  }

  #printAbove(text: string): void {
    this.#stream.write(`\r\u001b[2K${text}\n`);
    this.#draw(true);
  }
}
