/**
 * Writes a snapshot (slowly changing dimension, type 2) inside a step's transaction: the table
 * keeps every version of every source row, with `valid_from`, `valid_to` (NULL for the current
 * version) and `is_current`. Each run compares the source with the current versions:
 *
 * - a changed row (timestamp strategy: a later `updated_at`; check strategy: a checked column
 *   IS DISTINCT FROM the current version's) closes its current version and opens a new one;
 * - a key with no current version (new, or back after a hard delete) opens one;
 * - with `invalidate_hard_deletes`, a current version whose key left the source is closed;
 * - everything else writes nothing.
 *
 * Times: with `timestamp(col)` a new version's `valid_from` (and the `valid_to` of the version it
 * replaces) is the new row's `col`, and both columns have `col`'s type; with `check(...)` they
 * are the step's start time as a UTC TIMESTAMP. A hard delete is closed at the step's start time
 * (cast to the column type). The table carries the comment `strata:snapshot`, which keeps every
 * other write path from replacing it (see {@link refuseSnapshotReplace}).
 *
 * With `columns: 'dbt'` (a dbt project's snapshots) the same rules write dbt's columns instead:
 * `dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from`, `dbt_valid_to` (see {@link columnNames}); the
 * current version is the one whose `dbt_valid_to` is NULL.
 */
import { qualifiedTableName, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { snapshotColumns, type SnapshotConfig } from '../core/model/definitions/snapshot-config.ts';
import { DefinitionError, formatLocated, StrataError, type ErrorContext } from '../core/model/errors.ts';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import { countRows, type WritingSession } from './relation-facts.ts';

/** What a snapshot write needs of a step session. */
export interface SnapshotSession extends WritingSession {
  all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** What the asset's name holds in this transaction: a snapshot's history table, another table, a view, or nothing. */
  relationKind(key: string): Promise<RelationKind>;
  /** Whether the asset's table holds a snapshot's history (as committed). */
  isSnapshotTable(): Promise<boolean>;
  /** Says that this step made the asset's table a snapshot's history table. */
  madeSnapshot(): void;
}

/** What one snapshot write did. */
export interface SnapshotCounts {
  /** New versions written (first versions of new keys included). */
  readonly inserted: number;
  /** Current versions closed (changed rows and hard deletes). */
  readonly closed: number;
  /** Rows in the table afterwards: every version. */
  readonly rows: number;
}

/** What an asset's name holds: a snapshot's history table (marked {@link SNAPSHOT_MARK}), another table, a view, or nothing. */
export type RelationKind = 'snapshot' | 'table' | 'view' | 'none';

/** The table comment marking a snapshot's history table. */
export const SNAPSHOT_MARK = 'strata:snapshot';

const SOURCE = 'strata_snapshot_source';

/**
 * Writes one snapshot step of `context.assetKey` from the rows of `select`, as described above.
 * Problems in the configuration (a column the query does not return) are definition errors;
 * a NULL or duplicate key in the source fails the step; both before anything is written.
 *
 * @param now the step's start time: one "now" for the whole step
 * @param rebuild drop the history and start again (`--full-refresh --force KEY` only)
 */
export async function writeSnapshot(
  session: SnapshotSession,
  select: string,
  config: SnapshotConfig,
  now: Date,
  context: ErrorContext & { readonly assetKey: string },
  rebuild = false,
): Promise<SnapshotCounts> {
  const key = context.assetKey;
  const table = qualifiedTableName(key);
  const source = await session.relationColumns(`SELECT * FROM (${select}) AS __source`);
  const plan = bindColumns(config, source, context);
  await session.createTableAs(SOURCE, `SELECT * FROM (${select}) AS __source`, { temporary: true, replace: true });
  await validateSource(session, plan, context);

  const nowSql = (type: string) => nowLiteral(now, type);
  const timeType = plan.timestamp === undefined ? 'TIMESTAMP' : (source.get(plan.timestamp) as string);
  const newFrom = plan.timestamp === undefined ? nowSql(timeType) : `s.${quoteIdentifier(plan.timestamp)}`;
  const names = columnNames(config, plan, newFrom);
  // `--full-refresh --force KEY`: the history is replaced like a plain table (the views reading it kept), in this transaction, and built anew.
  const found = await session.relationKind(key);
  const existing = rebuild && found === 'snapshot' ? 'table' : found;
  let counts: Omit<SnapshotCounts, 'rows'>;
  if (existing !== 'snapshot') {
    if (existing === 'view') await session.run(`DROP VIEW ${table}`);
    // A plain table of the same name (the asset was a table before) can be rebuilt: replace it.
    await session.createTableAs(table, `SELECT s.*, ${names.opened}, CAST(NULL AS ${timeType}) AS ${names.to}${names.currentFlag} FROM ${SOURCE} AS s`, {
      replace: true,
    });
    await session.run(`COMMENT ON TABLE ${table} IS '${SNAPSHOT_MARK}'`);
    session.madeSnapshot();
    counts = { inserted: await countRows(session, SOURCE), closed: 0 };
  } else {
    const history = await session.relationColumns(`SELECT * FROM ${table}`);
    for (const column of snapshotColumns(config)) {
      if (!history.has(column))
        throw new StrataError('snapshot_table_invalid', `the snapshot table ${table} has no ${column} column: it was changed outside Strata`, context);
    }
    const gained = [...source.keys()].filter((column) => !history.has(column));
    const changed = changedCondition(config, plan, gained, context);
    for (const column of gained) await session.run(`ALTER TABLE ${table} ADD COLUMN ${quoteIdentifier(column)} ${source.get(column) as string}`);
    const match = plan.uniqueKey.map((c) => `h.${quoteIdentifier(c)} = s.${quoteIdentifier(c)}`).join(' AND ');
    let closed = await session.changed(
      `UPDATE ${table} AS h SET ${names.close(newFrom)} FROM ${SOURCE} AS s WHERE ${names.current} AND ${match} AND (${changed})`,
    );
    if (config.invalidateHardDeletes) {
      const validTo = nowSql(history.get(names.to) as string);
      closed += await session.changed(
        `UPDATE ${table} AS h SET ${names.close(validTo)} WHERE ${names.current} AND NOT EXISTS (SELECT 1 FROM ${SOURCE} AS s WHERE ${match})`,
      );
    }
    const inserted = await session.insertByName(
      table,
      `SELECT s.*, ${names.opened}${names.currentFlag} FROM ${SOURCE} AS s WHERE NOT EXISTS (SELECT 1 FROM ${table} AS h WHERE ${names.current} AND ${match})`,
    );
    counts = { inserted, closed };
  }
  await session.run(`DROP TABLE ${SOURCE}`);
  return { ...counts, rows: await countRows(session, table) };
}

/**
 * Refuses a write that would replace or rewrite a snapshot's history table (a `table` or
 * partitioned write of the same key, after its header changed): the history cannot be rebuilt.
 */
export async function refuseSnapshotReplace(session: Pick<SnapshotSession, 'isSnapshotTable'>, key: string): Promise<void> {
  // The warehouse's set of snapshot tables, read once: not a catalog scan per step.
  if (!(await session.isSnapshotTable())) return;
  throw new StrataError(
    'snapshot_replace_refused',
    `${qualifiedTableName(key)} holds the history of a snapshot, which cannot be rebuilt from its source: Strata does not replace it. Keep "materialization: snapshot", or drop the table yourself (DROP TABLE ${qualifiedTableName(key)}) if the history may go`,
    { assetKey: key },
  );
}

/**
 * The condition that source row `s` changed from current version `h`. dbt's `check_cols='all'`
 * takes every row as changed on the run its query gains a column; a gained column in dbt's
 * `check_cols` list is refused rather than compared some other way than dbt would.
 */
function changedCondition(config: SnapshotConfig, plan: BoundColumns, gained: readonly string[], context: ErrorContext): string {
  if (plan.timestamp !== undefined) return `s.${quoteIdentifier(plan.timestamp)} > h.${quoteIdentifier(plan.timestamp)}`;
  if (config.columns === 'dbt' && gained.length > 0) {
    if (config.strategy.type === 'check' && config.strategy.columns === 'all') return 'true';
    const checkedGained = plan.checked.filter((c) => gained.includes(c));
    if (checkedGained.length > 0)
      throw located(
        'snapshot_column_unknown',
        `check_cols names ${checkedGained.join(', ')}, which the snapshot's table does not have yet: Strata does not compare a new column the way dbt would; add it to the table first`,
        context,
      );
  }
  return plan.checked.map((c) => `h.${quoteIdentifier(c)} IS DISTINCT FROM s.${quoteIdentifier(c)}`).join(' OR ');
}

/** How the history's added columns are named and written, Strata's way or dbt's. */
interface ColumnNames {
  /** The column closing a version (NULL while it is current). */
  readonly to: string;
  /** The select-list items opening a version (before the close column), from source row `s`. */
  readonly opened: string;
  /** `, true AS is_current` (Strata), or nothing (dbt: current means `dbt_valid_to IS NULL`). */
  readonly currentFlag: string;
  /** The condition that history row `h` is a current version. */
  readonly current: string;
  /** The SET list closing a version at `time`. */
  close(time: string): string;
}

/**
 * Strata's `valid_from`, `valid_to`, `is_current`, or dbt's columns, as dbt's snapshot
 * materialization writes them: `dbt_scd_id` = md5 of the unique key column(s) and the version's
 * updated-at time, each cast to VARCHAR, NULL as '', joined by '|'; `dbt_updated_at` and
 * `dbt_valid_from` = that time (the row's `updated_at` column, or the snapshot time for `check`).
 */
function columnNames(config: SnapshotConfig, plan: BoundColumns, time: string): ColumnNames {
  if (config.columns !== 'dbt') {
    return {
      to: 'valid_to',
      opened: `${time} AS valid_from`,
      currentFlag: ', true AS is_current',
      current: 'h.is_current',
      close: (at) => `valid_to = ${at}, is_current = false`,
    };
  }
  const hashed = [...plan.uniqueKey.map((c) => `s.${quoteIdentifier(c)}`), time].map((e) => `coalesce(CAST(${e} AS VARCHAR), '')`).join(` || '|' || `);
  return {
    to: 'dbt_valid_to',
    opened: `md5(${hashed}) AS dbt_scd_id, ${time} AS dbt_updated_at, ${time} AS dbt_valid_from`,
    currentFlag: '',
    current: 'h.dbt_valid_to IS NULL',
    close: (at) => `dbt_valid_to = ${at}`,
  };
}

/** The source's columns resolved against the configuration (names as the query spells them). */
interface BoundColumns {
  readonly uniqueKey: readonly string[];
  readonly timestamp?: string;
  /** Check strategy: the columns compared. */
  readonly checked: readonly string[];
}

/** Resolves configured column names against the query's columns (case-insensitively), or throws a definition error. */
function bindColumns(config: SnapshotConfig, source: ReadonlyMap<string, string>, context: ErrorContext): BoundColumns {
  const names = [...source.keys()];
  const added = snapshotColumns(config);
  const reserved = names.filter((n) => added.includes(n.toLowerCase()));
  if (reserved.length > 0) {
    throw located(
      'snapshot_column_reserved',
      `the snapshot's query returns ${reserved.join(', ')}, which the snapshot adds itself: rename ${reserved.length === 1 ? 'it' : 'them'} in the query`,
      context,
    );
  }
  const find = (column: string, field: string): string => {
    const found = names.find((n) => n.toLowerCase() === column.toLowerCase());
    if (found === undefined) {
      throw located('snapshot_column_unknown', `${field} names column "${column}", which the query does not return (it returns ${names.join(', ')})`, context);
    }
    return found;
  };
  const uniqueKey = config.uniqueKey.map((c) => find(c, 'unique_key'));
  const { strategy } = config;
  if (strategy.type === 'timestamp') {
    const timestamp = find(strategy.column, 'snapshot_strategy timestamp(...)');
    const type = source.get(timestamp) as string;
    if (!/^(DATE|TIMESTAMP)/.test(type)) {
      throw located('snapshot_column_type', `snapshot_strategy timestamp(${strategy.column}): the column is ${type}, not a DATE or TIMESTAMP`, context);
    }
    return { uniqueKey, timestamp, checked: [] };
  }
  const checked = strategy.columns === 'all' ? names : strategy.columns.map((c) => find(c, 'snapshot_strategy check(...)'));
  return { uniqueKey, checked };
}

/** A definition error found when the query is first bound; its message names the asset and file (a step error shows only the message). */
function located(code: string, message: string, context: ErrorContext): DefinitionError {
  return new DefinitionError(code, formatLocated(new DefinitionError(code, message, context)), context);
}

/** Fails on NULL or duplicate keys (and NULL update times), naming a few. */
async function validateSource(session: SnapshotSession, plan: BoundColumns, context: ErrorContext): Promise<void> {
  const keys = plan.uniqueKey.map(quoteIdentifier).join(', ');
  const keyText = plan.uniqueKey.join(', ');
  const nulls = [...plan.uniqueKey, ...(plan.timestamp === undefined ? [] : [plan.timestamp])];
  const nullRows = await countRows(session, SOURCE, nulls.map((c) => `${quoteIdentifier(c)} IS NULL`).join(' OR '));
  if (nullRows > 0) {
    throw new StrataError(
      'snapshot_source_null',
      `${nullRows} source row${nullRows === 1 ? ' has' : 's have'} a NULL in ${nulls.join(' or ')}: a snapshot's unique_key and timestamp column must not be NULL`,
      context,
    );
  }
  const duplicates = await session.all<{ example: string; n: number; total: number }>(
    `SELECT concat_ws(', ', ${plan.uniqueKey.map((c) => `CAST(${quoteIdentifier(c)} AS VARCHAR)`).join(', ')}) AS example, count(*) AS n, count(*) OVER () AS total FROM ${SOURCE} GROUP BY ${keys} HAVING count(*) > 1 ORDER BY n DESC, example LIMIT 3`,
  );
  if (duplicates.length > 0) {
    const total = Number(duplicates[0]?.total ?? 0);
    const examples = duplicates.map((d) => `${keyText} = ${d.example} (${d.n} rows)`).join('; ');
    throw new StrataError(
      'snapshot_key_not_unique',
      `unique_key ${keyText} is not unique in the snapshot's source: ${total} key${total === 1 ? '' : 's'} appear more than once, e.g. ${examples}; nothing was written`,
      context,
    );
  }
}

/** The step's start time as a literal of `type` (TIMESTAMP in UTC; TIMESTAMPTZ at the same instant; DATE its UTC day). */
function nowLiteral(now: Date, type: string): string {
  if (type.includes('WITH TIME ZONE')) return `to_timestamp(${now.getTime()} / 1000.0)`;
  const utc = `TIMESTAMP '${now.toISOString().replace('T', ' ').replace('Z', '')}'`;
  return type === 'TIMESTAMP' ? utc : `CAST(${utc} AS ${type})`;
}
