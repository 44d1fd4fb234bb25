/**
 * `ok`, `overdue 3h` (for how long it has been overdue: its lag minus the policy's maximum) or
 * `overdue (no data)` when the asset was never materialized. The same file runs in the browser
 * (ui/static).
 *
 * @example
 * freshnessText({ status: 'overdue', maxLagMs: 26 * 3_600_000, lagMs: 29 * 3_600_000 }); // 'overdue 3h'
 */
export function freshnessText(freshness: { readonly status: 'fresh' | 'overdue'; readonly maxLagMs: number; readonly lagMs: number | null }): string;
