/**
 * The partition window of a partitioned incremental step: the condition selecting its rows, its
 * rows per partition, and what the write did to each partition.
 */
import { quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import type { IncrementalCounts, IncrementalStrategy } from '../core/model/definitions/incremental-config.ts';
import { assignBuckets, countRowsSql, scopeFilter, type PartitionScope } from './partition-writes.ts';
import type { ReadingSession } from './relation-facts.ts';

/** The condition selecting a scope's rows of a table with `columns`; `alias` qualifies the column. */
export function windowFilter(scope: PartitionScope, columns: ReadonlyMap<string, string>, alias?: string): string {
  const column = quoteIdentifier(scope.column);
  return scopeFilter(scope, alias === undefined ? column : `${alias}.${column}`, columns.get(scope.column));
}

/** Rows per partition of the scope in `relation` (a table, or staged new rows); `columnType` is the partition column's. */
export async function rowsPerPartition(
  session: ReadingSession,
  scope: PartitionScope,
  relation: string,
  columnType: string | undefined,
): Promise<Map<string, number>> {
  return assignBuckets(scope, await session.all<{ k: string; n: number }>(countRowsSql(scope, relation, quoteIdentifier(scope.column), columnType)));
}

/**
 * What an incremental write did to each partition, from its rows before, the new rows and its
 * rows after: the write removed `before + new − after` rows of it. A merge counts as updated as
 * many as both removed and added, the rest as inserted or deleted: exact when each key lives in
 * one partition, and a key that moved to another partition of the window is deleted from one and
 * inserted into the other. delete+insert deletes the removed rows. A partition that had no rows
 * was built in `full`.
 */
export function countsPerPartition(
  strategy: IncrementalStrategy,
  before: ReadonlyMap<string, number>,
  incoming: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Map<string, IncrementalCounts> {
  const counts = new Map<string, IncrementalCounts>();
  for (const [partition, rows] of after) {
    const had = before.get(partition) ?? 0;
    const added = incoming.get(partition) ?? 0;
    const removed = had + added - rows;
    const updated = strategy === 'merge' ? Math.min(removed, added) : 0;
    counts.set(partition, { build: had > 0 ? 'incremental' : 'full', rowsInserted: added - updated, rowsUpdated: updated, rowsDeleted: removed - updated });
  }
  return counts;
}

/** The sums of per-partition counts: a partitioned step's totals. */
export function totalCounts(counts: ReadonlyMap<string, IncrementalCounts>): Omit<IncrementalCounts, 'build'> {
  let [rowsInserted, rowsUpdated, rowsDeleted] = [0, 0, 0];
  for (const c of counts.values()) {
    rowsInserted += c.rowsInserted;
    rowsUpdated += c.rowsUpdated;
    rowsDeleted += c.rowsDeleted;
  }
  return { rowsInserted, rowsUpdated, rowsDeleted };
}
