// An asset's freshness as Strata shows it, in `assets status` and in the web UI alike. Plain
// JavaScript (typed by freshness-text.d.ts) because the browser loads this same file: `assets ui`
// serves it as /static/shared/freshness-text.js.

import { formatDuration } from './duration-text.js';

/**
 * `ok`, `overdue 3h` (for how long it has been overdue: its lag minus the policy's maximum) or
 * `overdue (no data)` when the asset was never materialized.
 *
 * @param {{ status: 'fresh' | 'overdue', maxLagMs: number, lagMs: number | null }} freshness
 * @returns {string}
 */
export function freshnessText(freshness) {
  if (freshness.status === 'fresh') return 'ok';
  return freshness.lagMs === null ? 'overdue (no data)' : `overdue ${formatDuration(freshness.lagMs - freshness.maxLagMs)}`;
}
