/**
 * Short text for a duration in milliseconds, at most two units, rounded to the precision shown:
 * `850ms`, `4.9s`, `3s`, `1m05s`, `1m`, `2h03m`, `2h`, `1d02h`. A part that rounds up carries into
 * the next unit (59.96 s is `1m`, never `60.0s` or `59m60s`); a second part that is zero is left
 * out. Negative input counts as 0. The same file runs in the browser (ui/static).
 *
 * @example
 * formatDuration(65_000); // '1m05s'
 */
export function formatDuration(ms: number): string;
