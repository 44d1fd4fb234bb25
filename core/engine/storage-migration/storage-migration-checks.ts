/**
 * What `assets storage migrate` refuses before it writes anything: a source whose runs are still
 * running (their process heartbeats), a target that already holds Strata rows, and a target
 * whose tables or columns are not the source's. Each refusal is a
 * {@link StorageMigrationError} naming what it found.
 */

import { StorageMigrationError } from '../../model/errors.ts';
import type { RunningRunRow, StorageTable } from '../../../storage/sqlite-table-source.ts';
import type { TargetTable } from '../../../storage/postgres-table-target.ts';
import { shortId } from '../execution/run-leases.ts';
import { formatDuration } from '../../model/format/duration-text.js';

/**
 * Refuses when a run of `runs` is alive: `running` with a heartbeat (else its start) newer than
 * `timeoutMs` before `now` — the rule the dead-run reaper uses, so a run it would reap does not
 * block the copy (it is copied as it is, and reaped on the new storage).
 */
export function refuseLiveRuns(runs: readonly RunningRunRow[], now: number, timeoutMs: number, file: string): void {
  const live = runs.filter((run) => (run.heartbeatAt ?? run.startedAt ?? run.createdAt) > now - timeoutMs);
  if (live.length === 0) return;
  const named = live.map((run) => {
    const beat = run.heartbeatAt ?? run.startedAt ?? run.createdAt;
    return `${shortId(run.id)}${run.pid === null ? '' : ` (pid ${run.pid})`}, last heartbeat ${formatDuration(Math.max(0, now - beat))} ago`;
  });
  throw new StorageMigrationError(
    'migration_source_busy',
    `${live.length === 1 ? 'a run is' : `${live.length} runs are`} still running on ${file}: ${named.join('; ')}. ` +
      'Wait for it to finish (or stop it: it is reaped after the heartbeat timeout), stop assets daemon, then migrate',
  );
}

/** Refuses when any of `counts` (table → rows in the target) is above zero, naming those tables. */
export function refuseNonEmptyTarget(counts: ReadonlyMap<string, number>, where: string): void {
  const filled = [...counts].filter(([, rows]) => rows > 0);
  if (filled.length === 0) return;
  const named = filled.map(([table, rows]) => `${table} (${rows} row${rows === 1 ? '' : 's'})`).join(', ');
  throw new StorageMigrationError(
    'migration_target_not_empty',
    `the target ${where} is not empty: ${named}. Migrate into an empty database or schema (e.g. ?options=-c%20search_path%3Dstrata with a new schema)`,
  );
}

/** Refuses when the target lacks a table or column of the source, or has a column the source lacks. */
export function refuseSchemaMismatch(source: readonly StorageTable[], target: ReadonlyMap<string, TargetTable>, where: string): void {
  const problems: string[] = [];
  for (const table of source) {
    const theirs = target.get(table.name);
    if (!theirs) {
      problems.push(`table ${table.name} is missing`);
      continue;
    }
    const missing = table.columns.filter((c) => !theirs.columns.has(c));
    const extra = [...theirs.columns.keys()].filter((c) => !table.columns.includes(c));
    if (missing.length > 0) problems.push(`${table.name} lacks column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
    if (extra.length > 0) problems.push(`${table.name} has column${extra.length === 1 ? '' : 's'} ${extra.join(', ')} the source lacks`);
  }
  if (problems.length > 0)
    throw new StorageMigrationError('migration_schema_mismatch', `the target ${where} does not have the source's tables: ${problems.join('; ')}`);
}
