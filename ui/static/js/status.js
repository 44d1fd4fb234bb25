// One status vocabulary for the whole UI (the `data-status` of lineage nodes and the asset
// page's status word): fresh, stale, missing, failed, running, partial.

/** Every status, in the order the legend lists them. */
export const STATUSES = ['fresh', 'stale', 'missing', 'partial', 'failed', 'running'];

/** What each status means, for legends and tooltips. */
export const STATUS_HELP = {
  fresh: 'materialized and up to date',
  stale: 'code changed, or upstream data changed or will change',
  missing: 'never materialized',
  partial: 'some partitions missing',
  failed: 'last attempt failed',
  running: 'being materialized now',
};

/**
 * The status of an asset from its `GET /api/assets` row (or `{ ...detail.state, stale }`),
 * `running` when a running run covers it. Source assets are fresh once observed.
 */
export function assetStatus(asset, running = false) {
  if (running) return 'running';
  const state = asset.state;
  if (state === 'failed') return 'failed';
  if (state === 'missing' || state === 'not observed') return 'missing';
  if (state === 'partial') return 'partial';
  if (state === 'stale' || (typeof asset.stale === 'number' && asset.stale > 0)) return 'stale';
  return 'fresh';
}

/** `failed` (also when a check could not run), `warned` or `null`: the worst latest check outcome of an asset row. */
export function checkStatus(asset) {
  const c = asset.checks;
  if (!c) return null;
  if (c.failed > 0 || c.errored > 0) return 'failed';
  if (c.warned > 0) return 'warned';
  return c.total > 0 ? 'passed' : null;
}

/** CSS class of a run or backfill status word (running, success, failed, queued, canceled). */
export function runStatusClass(status) {
  return `run-status run-status-${status}`;
}

/** True while a run may still change. */
export function isActive(status) {
  return status === 'running' || status === 'queued';
}
