/**
 * One line for the write counts in a materialization's metadata (or in the `incremental` /
 * `snapshot` fields of an asset's status): `incremental: 1 inserted, 1 updated, 0 deleted,
 * watermark 2025-01-02 00:00:00` (`build` is `incremental` or `full`; the watermark the build
 * read, left out when none), `snapshot: 2 inserted, 1 closed` (metadata with `rowsClosed`), else
 * `null`. The same file runs in the browser (ui/static).
 *
 * @example
 * writeSummaryText({ rowsInserted: 2, rowsClosed: 1 }); // 'snapshot: 2 inserted, 1 closed'
 */
export function writeSummaryText(metadata: object | null | undefined): string | null;
