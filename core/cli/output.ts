/**
 * Terminal output: aligned tables, durations and colours (only when writing to a TTY and
 * NO_COLOR is unset).
 */

import { countText } from '../model/format/count-text.ts';

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;

/** A colour or style name. */
export type Colour = keyof typeof CODES;

/** Writes lines to a stream, colouring only on a TTY. */
export class Output {
  readonly #stream: NodeJS.WriteStream;
  readonly colours: boolean;
  /** True when writing to a terminal (where {@link status} shows anything). */
  readonly tty: boolean;
  /** A {@link status} line is on screen, to clear before the next line. */
  #status = false;

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.#stream = stream;
    this.tty = stream.isTTY === true;
    this.colours = this.tty && !process.env.NO_COLOR;
  }

  /**
   * On a terminal, shows `text` on a line redrawn in place, which the next {@link line} replaces;
   * empty text clears it. Elsewhere (pipes, CI logs) nothing is written.
   */
  status(text: string): void {
    if (!this.tty) return;
    this.#stream.write(`\r\u001b[2K${text}`);
    this.#status = text !== '';
  }

  /** Writes `message` as one yellow line: the sink for the engine's news (dead runs reaped, a busy warehouse). */
  readonly notice = (message: string): void => this.line(this.paint('yellow', message));

  /** Wraps `text` in a colour when colours are on. */
  paint(colour: Colour, text: string): string {
    return this.colours ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
  }

  line(text = ''): void {
    if (this.#status) {
      this.#stream.write('\r\u001b[2K');
      this.#status = false;
    }
    this.#stream.write(`${text}\n`);
  }

  /** Prints a value as pretty JSON. */
  json(value: unknown): void {
    this.#stream.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints rows as a table with a header; `colour` may colour whole cells after alignment. */
  table(header: readonly string[], rows: readonly (readonly string[])[], colour?: (row: number, column: number, cell: string) => Colour | undefined): void {
    for (const line of formatTable(header, rows, (r, c, text) => {
      const chosen = r >= 0 && colour ? colour(r, c, text.trim()) : undefined;
      return chosen ? this.paint(chosen, text) : r < 0 ? this.paint('bold', text) : text;
    })) {
      this.line(line);
    }
  }
}

/** Aligns cells into columns two spaces apart; `style` decorates each padded cell (row -1 is the header). */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  style: (row: number, column: number, text: string) => string = (_r, _c, t) => t,
): string[] {
  // A loop, not Math.max(...rows): spreading a long table into one call overflows the stack.
  const widths = header.map((h) => h.length);
  for (const row of rows) for (let c = 0; c < header.length; c++) widths[c] = Math.max(widths[c] ?? 0, (row[c] ?? '').length);
  const render = (cells: readonly string[], row: number) =>
    cells
      .map((cell, c) => style(row, c, c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(header, -1), ...rows.map((r, i) => render(r, i))];
}

/** Durations as the CLI and the web UI show them: `850ms`, `4.9s`, `1m05s`, `2h03m`. */
export { formatDuration } from '../model/format/duration-text.js';

/** Epoch ms → `2026-11-23 16:52:35` in local time. */
export function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Thousands separators for row counts. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : countText(n);
}

/** The colour of a run or step status. */
export function statusColour(status: string): Colour | undefined {
  if (status === 'success' || status === 'fresh' || status === 'materialized') return 'green';
  if (status === 'failed' || status === 'run_failure') return 'red';
  if (status === 'canceled' || status === 'skipped' || status === 'missing' || status === 'never') return 'yellow';
  if (status === 'running' || status === 'queued') return 'cyan';
  return undefined;
}
