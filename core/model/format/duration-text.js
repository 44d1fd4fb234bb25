// Durations as Strata shows them, in the terminal and in the web UI alike. Plain JavaScript
// (typed by duration-text.d.ts) because the browser loads this same file: `assets ui` serves it
// as /static/shared/duration-text.js.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Short text for a duration in milliseconds, at most two units, rounded to the precision shown:
 * `850ms`, `4.9s`, `3s`, `1m05s`, `1m`, `2h03m`, `2h`, `1d02h`. A part that rounds up carries into
 * the next unit (59.96 s is `1m`, never `60.0s` or `59m60s`); a second part that is zero is left
 * out (`1m`, not `1m00s`). Negative input counts as 0.
 *
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  const value = Math.max(0, ms);
  if (Math.round(value) < SECOND) return `${Math.round(value)}ms`;
  const tenths = Math.round(value / 100);
  if (tenths < 600) return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(value / SECOND);
  if (seconds < 3_600) return twoUnits(Math.floor(seconds / 60), 'm', seconds % 60, 's');
  const minutes = Math.round(value / MINUTE);
  if (minutes < 1_440) return twoUnits(Math.floor(minutes / 60), 'h', minutes % 60, 'm');
  const hours = Math.round(value / HOUR);
  return twoUnits(Math.floor(hours / 24), 'd', hours % 24, 'h');
}

/** `1m05s`, or `1m` when the smaller part is zero. */
function twoUnits(big, bigUnit, small, smallUnit) {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${String(small).padStart(2, '0')}${smallUnit}`;
}
