// What an incremental or snapshot write did, as Strata shows it in the terminal and in the web
// UI alike. Plain JavaScript (typed by write-summary-text.d.ts) because the browser loads this
// same file: `assets ui` serves it as /static/shared/write-summary-text.js.

/**
 * One line for the write counts in a materialization's metadata (or in the `incremental` /
 * `snapshot` fields of an asset's status, which use the same names):
 * `incremental: 1 inserted, 1 updated, 0 deleted, watermark 2025-01-02 00:00:00` (an incremental
 * build: `build` is `incremental` or `full`; the watermark is the one the build read, left out
 * when there was none), `snapshot: 2 inserted, 1 closed` (a snapshot: `rowsClosed`), else `null`.
 *
 * @param {object | null | undefined} metadata
 * @returns {string | null}
 */
export function writeSummaryText(metadata) {
  if (metadata === null || typeof metadata !== 'object') return null;
  const count = (name) => (typeof metadata[name] === 'number' ? metadata[name] : 0);
  const { build, watermark } = metadata;
  if (build === 'incremental' || build === 'full') {
    const mark = watermark === null || watermark === undefined ? '' : `, watermark ${String(watermark)}`;
    return `${build}: ${count('rowsInserted')} inserted, ${count('rowsUpdated')} updated, ${count('rowsDeleted')} deleted${mark}`;
  }
  if (typeof metadata.rowsClosed === 'number') return `snapshot: ${count('rowsInserted')} inserted, ${count('rowsClosed')} closed`;
  return null;
}
