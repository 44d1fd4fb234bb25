/**
 * `assets storage migrate`: moves a project's SQLite storage into an empty Postgres database,
 * verified. The source is read-only, in one snapshot; every table of its schema (read from the
 * file, not listed here) is copied in batches in ONE Postgres transaction, ids kept, and each
 * identity sequence is moved past the source's counter (so event ids and data sequence numbers
 * keep their order and later inserts do not collide). Before committing, the transaction counts
 * and checksums every table and reads the sequences back: anything unequal rolls it all back, so
 * the target is either a verified copy or as empty as it was. After the commit the rows are
 * counted again, on a connection of their own. Not resumable: after a failure it simply runs
 * again on the still-empty target.
 */

import { resolveStorage } from '../project/storage-source.ts';
import { loadProjectConfig, resolveProjectDir } from '../project/project-config.ts';
import { storageLocation } from '../../model/config/project-config.ts';
import { StorageMigrationError, UsageError } from '../../model/errors.ts';
import { RowChecksum } from '../../../storage/row-checksum.ts';
import { SqliteTableSource, type StorageTable } from '../../../storage/sqlite-table-source.ts';
import type { PostgresCopySession, PostgresTableTarget, TargetTable } from '../../../storage/postgres-table-target.ts';
import { formatDuration } from '../../model/format/duration-text.js';
import { refuseLiveRuns, refuseNonEmptyTarget, refuseSchemaMismatch } from './storage-migration-checks.ts';

/** How long the copy waits for another process's locks on the target's tables. */
const LOCK_TIMEOUT_MS = 10_000;

/** What to migrate where. */
export interface StorageMigrationOptions {
  /** `--project` (else STRATA_PROJECT, the current folder, the example). */
  readonly project?: string;
  /** `--to`: a `postgres://` URL, or `env:NAME` naming a variable that holds one. */
  readonly to: string;
  /** Count what would be copied; write nothing. */
  readonly dryRun?: boolean;
  /** The clock, for telling live runs from dead ones (default: now). */
  readonly now?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for another process's locks on the target's tables (default 10 s). */
  readonly lockTimeoutMs?: number;
  /** Called before each table is copied. */
  readonly onTable?: (table: string, rows: number) => void;
}

/** One table's rows on both sides. */
export interface TableComparison {
  readonly table: string;
  readonly source: number;
  /** Rows in the target after the commit; `null` in a dry run. */
  readonly target: number | null;
  /** Whether the checksums of all columns agreed before the commit; `null` in a dry run. */
  readonly checksumEqual: boolean | null;
}

/** One id counter on both sides. */
export interface SequenceComparison {
  readonly table: string;
  readonly column: string;
  /** The highest id the source assigned (its AUTOINCREMENT counter, at least the highest id copied). */
  readonly source: number;
  /** The target sequence's last value after the copy. */
  readonly target: number;
}

/** What a migration did (or, in a dry run, would do). */
export interface StorageMigrationReport {
  /** The SQLite file copied. */
  readonly source: string;
  /** `host:port/database, schema NAME` of the target, never the password. */
  readonly target: string;
  readonly dryRun: boolean;
  /** Whether the target had Strata's tables before (a dry run leaves them missing: they are created by the real run). */
  readonly targetHadSchema: boolean;
  /** Every table, each after the tables it references. */
  readonly tables: readonly TableComparison[];
  readonly sequences: readonly SequenceComparison[];
  /** Every count, checksum and sequence equal (and committed); `false` in a dry run. */
  readonly verified: boolean;
}

/**
 * Copies the project's SQLite storage into the empty Postgres database `options.to`, or, with
 * `dryRun`, reports what it would copy. Refusals (a live run, a non-empty or unreachable
 * target, a source that is not this Strata's schema) are user errors; a copy that does not
 * verify is rolled back and reported with `verified: false`.
 *
 * @example
 * const report = await migrateStorage({ to: 'env:STRATA_PG' });
 * if (!report.verified) process.exitCode = 1;
 */
export async function migrateStorage(options: StorageMigrationOptions): Promise<StorageMigrationReport> {
  const env = options.env ?? process.env;
  const config = loadProjectConfig(resolveProjectDir(options.project));
  const location = storageLocation(config);
  if (location.kind !== 'sqlite')
    throw new StorageMigrationError('migration_source_invalid', "the project's storage is already a Postgres database: there is no SQLite storage to migrate");
  const to = resolveStorage(options.to, { label: '--to' }, env);
  if (to.kind !== 'postgres') throw new UsageError('--to must be a postgres:// URL, or env:NAME naming a variable that holds one', '--to');

  const source = SqliteTableSource.open(location.file);
  try {
    refuseLiveRuns(source.runningRuns(), options.now ?? Date.now(), config.heartbeat.timeoutMs, source.file);
    const { PostgresTableTarget } = await import('../../../storage/postgres-table-target.ts');
    const target = await PostgresTableTarget.connect(to.url, env);
    try {
      return await copy(source, target, options);
    } finally {
      await target.close();
    }
  } finally {
    source.close();
  }
}

async function copy(source: SqliteTableSource, target: PostgresTableTarget, options: StorageMigrationOptions): Promise<StorageMigrationReport> {
  if (target.schema === undefined)
    throw new StorageMigrationError(
      'migration_target_invalid',
      `the target ${target.where} has no schema to create the tables in: create the schema its search_path names first`,
    );
  const tables = source.tables();
  const names = tables.map((t) => t.name);
  const before = await target.tables();
  const targetHadSchema = names.some((name) => before.has(name));
  refuseNonEmptyTarget(await target.counts(names.filter((name) => before.has(name))), target.where);
  const sourceCounts = new Map(names.map((name) => [name, source.count(name)]));
  const base = { source: source.file, target: target.where, targetHadSchema };
  if (options.dryRun) {
    const rows = tables.map((t) => ({ table: t.name, source: sourceCounts.get(t.name) ?? 0, target: null, checksumEqual: null }));
    return { ...base, dryRun: true, tables: rows, sequences: [], verified: false };
  }

  await target.migrate();
  const schema = await target.tables();
  refuseSchemaMismatch(tables, schema, target.where);
  const checked = await target.transaction(async (session) => {
    if (!(await session.lock(names, options.lockTimeoutMs ?? LOCK_TIMEOUT_MS)))
      throw new StorageMigrationError(
        'migration_target_busy',
        `another process is writing the target ${target.where} (its tables stayed locked for ${formatDuration(options.lockTimeoutMs ?? LOCK_TIMEOUT_MS)}): stop what uses it (assets worker, daemon, ui), then migrate`,
      );
    refuseNonEmptyTarget(await session.counts(names), target.where);
    const sourceSums = new Map<string, string>();
    const sequences: SequenceComparison[] = [];
    for (const table of tables) {
      options.onTable?.(table.name, sourceCounts.get(table.name) ?? 0);
      const copied = await copyTable(source, session, table, schema.get(table.name) as TargetTable);
      sourceSums.set(table.name, copied.checksum);
      sequences.push(...(await moveSequences(session, table, copied.maxIds, source.sequences())));
    }
    const counted = await session.counts(names);
    const sums = new Map<string, boolean>();
    for (const table of tables) sums.set(table.name, (await session.checksum(table.name, table.columns)) === sourceSums.get(table.name));
    const equal =
      names.every((name) => counted.get(name) === sourceCounts.get(name) && sums.get(name) === true) && sequences.every((s) => s.source === s.target);
    return { commit: equal, result: { sums, sequences, equal } };
  });
  const after = await target.counts(names);
  const rows = tables.map((t) => ({
    table: t.name,
    source: sourceCounts.get(t.name) ?? 0,
    target: after.get(t.name) ?? 0,
    checksumEqual: checked.sums.get(t.name) ?? false,
  }));
  const verified = checked.equal && rows.every((r) => r.source === r.target);
  return { ...base, dryRun: false, tables: rows, sequences: checked.sequences, verified };
}

/** Copies `table` batch by batch; returns the checksum of the rows read and the highest value seen in each identity column. */
async function copyTable(
  source: SqliteTableSource,
  session: PostgresCopySession,
  table: StorageTable,
  target: TargetTable,
): Promise<{ readonly checksum: string; readonly maxIds: ReadonlyMap<string, number> }> {
  const sum = new RowChecksum();
  const identity = target.identityColumns.map((column) => [column, table.columns.indexOf(column)] as const);
  const maxIds = new Map(target.identityColumns.map((column) => [column, 0]));
  let copied = 0;
  for (const batch of source.batches(table)) {
    try {
      await session.insert(target, table.columns, batch);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StorageMigrationError(
        'migration_copy_failed',
        `Postgres refused a row of ${table.name} (rows ${copied + 1}-${copied + batch.length}): ${reason}; the copy was rolled back, the target holds no rows`,
        { cause: error },
      );
    }
    copied += batch.length;
    sum.addAll(batch);
    for (const [column, index] of identity) {
      const highest = batch.reduce((max, row) => Math.max(max, Number(row[index] ?? 0)), 0);
      maxIds.set(column, Math.max(maxIds.get(column) ?? 0, highest));
    }
  }
  return { checksum: sum.digest(), maxIds };
}

/**
 * Moves each identity sequence of `table` to the source's counter (AUTOINCREMENT never hands an
 * id out twice, so its counter may be above the highest id left), and reads it back.
 */
async function moveSequences(
  session: PostgresCopySession,
  table: StorageTable,
  maxIds: ReadonlyMap<string, number>,
  counters: ReadonlyMap<string, number>,
): Promise<SequenceComparison[]> {
  const moved: SequenceComparison[] = [];
  for (const [column, maxId] of maxIds) {
    const last = Math.max(counters.get(table.name) ?? 0, maxId);
    await session.setIdentity(table.name, column, last);
    moved.push({ table: table.name, column, source: last, target: await session.identityValue(table.name, column) });
  }
  return moved;
}
