// Formatting of times, durations and counts for display.

import { formatDuration } from '../shared/duration-text.js';

/** `incremental: 1 inserted, 1 updated, 0 deleted, watermark …` or `snapshot: 2 inserted, 1 closed` (or null): the CLI's text, served from core. */
export { writeSummaryText } from '../shared/write-summary-text.js';
export { freshnessText } from '../shared/freshness-text.js';

const NUMBER = new Intl.NumberFormat('en-US');

/** `1,234` (or an en dash for null). */
export function count(n) {
  return n === null || n === undefined ? '–' : NUMBER.format(n);
}

/** A compact count for chart axes: 1.2k, 3.4M. */
export function shortCount(n) {
  if (n === null || n === undefined) return '–';
  if (Math.abs(Math.round(n)) < 1000) return String(Math.round(n));
  // The unit is chosen after rounding: 999,999 is 1.0M, not 1000k.
  for (const [size, suffix] of [
    [1e3, 'k'],
    [1e6, 'M'],
  ]) {
    const text = (n / size).toFixed(suffix === 'k' && Math.abs(n) >= 1e4 ? 0 : 1);
    if (Math.abs(Number(text)) < 1000) return `${text}${suffix}`;
  }
  return `${(n / 1e9).toFixed(1)}B`;
}

/** `2025-03-01 14:05:09` in local time (or an en dash). */
export function dateTime(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `14:05:09.123` for event logs. */
export function clockTime(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `850ms`, `4.9s`, `1m05s`, `2h03m` (or an en dash for null): the CLI's formatter, served from core. */
export function duration(ms) {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : formatDuration(ms);
}

/** `3 min ago`, `2 h ago`, `5 d ago`. */
export function ago(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** The duration of a run (running ones up to now). */
export function runDuration(run, now = Date.now()) {
  if (!run.startedAt) return null;
  return (run.endedAt ?? now) - run.startedAt;
}

/** A short id for display. */
export function shortId(id) {
  return String(id ?? '').slice(0, 8);
}
