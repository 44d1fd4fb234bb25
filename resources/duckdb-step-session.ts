/**
 * One step's transaction in a DuckDB warehouse (see {@link StepSession} in warehouse.ts): a pooled
 * connection of the {@link DuckDBWarehouse}, borrowed on the first statement.
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { keyToTable, qualifiedTableName, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import type { SqlParam, Row } from '../core/model/definitions/asset-context.ts';
import { StrataError } from '../core/model/errors.ts';
import type { CheckQueries } from './check-queries.ts';
import { duckdbCheckQueries } from './duckdb-check-queries.ts';
import { seedSelect } from './duckdb-seed-csv.ts';
import { readRows, toDuckValues } from './duckdb-values.ts';
import type { DuckDBWarehouse } from './duckdb-warehouse.ts';
import { tableColumns } from './incremental-writes.ts';
import { assignBuckets, countRowsSql, rowsOutsideError, scopeFilter, type PartitionScope } from './partition-writes.ts';
import { relationColumns } from './relation-facts.ts';
import { refuseSnapshotReplace, SNAPSHOT_MARK, type RelationKind } from './snapshot-writes.ts';
import { SqlStepSession, type TransactionEnd } from './sql-step-session.ts';
import type { CatalogEntry, QueryProgress, StepSession } from './warehouse.ts';

const CATALOG_SQL = `SELECT schema_name AS s, table_name AS n, 'table' AS kind, table_oid AS oid, hash(sql) AS shape
FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary
UNION ALL
SELECT schema_name, view_name, 'view', view_oid, 0
FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary`;

/** Prepared statements of {@link DuckDBStepSession.runPrepared}, per pooled connection. */
const PREPARED = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

/**
 * One step's view of the warehouse. The first statement borrows a connection and opens a
 * transaction; {@link commit} or {@link rollback} ends it and returns the connection.
 */
export class DuckDBStepSession extends SqlStepSession<DuckDBConnection> implements StepSession {
  readonly dialect = 'duckdb' as const;
  readonly #warehouse: DuckDBWarehouse;

  /** The table's columns as checked by this step; shared with later steps once it commits. */
  #checked: ReadonlyMap<string, string> | undefined;
  #madeSnapshot = false;

  constructor(warehouse: DuckDBWarehouse, key: string, scope?: PartitionScope) {
    super(key, scope);
    this.#warehouse = warehouse;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    const connection = await this.open();
    await connection.run(sql, toDuckValues(params));
  }

  async all<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return readRows<T>(await this.open(), sql, params);
  }

  /**
   * {@link run} for a statement every step repeats (one statement, parameters `$1…`): prepared
   * once per pooled connection, then only bound and run.
   */
  async runPrepared(sql: string, params: readonly SqlParam[]): Promise<void> {
    const connection = await this.open();
    let statements = PREPARED.get(connection);
    if (statements === undefined) PREPARED.set(connection, (statements = new Map()));
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = await connection.prepare(sql)));
    const values = toDuckValues(params);
    if (values) statement.bind(values);
    await statement.run();
  }

  /** Runs an INSERT, UPDATE or DELETE and returns the number of rows it changed. */
  async changed(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    const connection = await this.open();
    return Number((await connection.run(sql, toDuckValues(params))).rowsChanged);
  }

  /** DuckDB's check queries. */
  get checkQueries(): CheckQueries {
    return duckdbCheckQueries;
  }

  relationColumns(relation: string): Promise<Map<string, string>> {
    return relationColumns(this, relation);
  }

  /**
   * Tables and views as this transaction sees them. A table's `shape` (a hash of its CREATE
   * statement) changes with any ALTER; its oid changes when it is replaced or dropped and created
   * again. (A view's SQL is not read: DuckDB renders it for its ~50 internal views too, which
   * doubles the query's cost.)
   */
  async catalog(): Promise<CatalogEntry[]> {
    const rows = await this.all<{ s: string; n: string; kind: 'table' | 'view'; oid: number | string; shape: number | string }>(CATALOG_SQL);
    return rows.map((r) => ({ schema: r.s, name: r.n, kind: r.kind, identity: String(r.oid), shape: String(r.shape) }));
  }

  tableColumns(key: string): Promise<Map<string, string>> {
    return tableColumns(this, key);
  }

  async createTableAs(table: string, select: string, options: { readonly temporary?: boolean; readonly replace?: boolean } = {}): Promise<void> {
    await this.run(`CREATE ${options.replace ? 'OR REPLACE ' : ''}${options.temporary ? 'TEMP ' : ''}TABLE ${table} AS ${select}`);
  }

  insertByName(table: string, select: string): Promise<number> {
    return this.changed(`INSERT INTO ${table} BY NAME ${select}`);
  }

  async relationKind(key: string): Promise<RelationKind> {
    const { schema, table } = keyToTable(key);
    const rows = await this.all<{ kind: string; comment: string | null }>(
      `SELECT 'table' AS kind, comment FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2
       UNION ALL SELECT 'view' AS kind, comment FROM duckdb_views() WHERE schema_name = $1 AND view_name = $2`,
      [schema, table],
    );
    const row = rows[0];
    if (row === undefined) return 'none';
    if (row.kind === 'view') return 'view';
    return row.comment === SNAPSHOT_MARK ? 'snapshot' : 'table';
  }

  async replaceTable(select: string, params: readonly SqlParam[] = []): Promise<number> {
    const table = qualifiedTableName(this.assetKey);
    await refuseSnapshotReplace(this, this.assetKey);
    const connection = await this.open();
    // CREATE TABLE AS answers with its row count: no count(*) of the new table.
    const created = await (await connection.run(`CREATE OR REPLACE TABLE ${table} AS ${select}`, toDuckValues(params))).getRows();
    const count = created[0]?.[0];
    this.rowsWritten = typeof count === 'bigint' || typeof count === 'number' ? Number(count) : await this.rowCount(this.assetKey);
    return this.rowsWritten;
  }

  /**
   * Replaces this step's partitions of the asset's table with the rows of `select`, in the
   * step's transaction: creates the table if needed, deletes the rows of the step's window (or
   * static keys) by the partition column, inserts the new rows by column name. Returns the
   * number of rows inserted; per-partition counts land in {@link partitionRows}. Fails (and so
   * rolls back) when a row falls outside the step's partitions, or when the query's columns no
   * longer match the table and the step does not cover every partition.
   */
  async replacePartitions(select: string, params: readonly SqlParam[] = []): Promise<number> {
    const scope = this.scope;
    if (!scope)
      throw new StrataError('not_partitioned', `${this.assetKey} is not partitioned (or has no partition column): use replaceTable`, {
        assetKey: this.assetKey,
      });
    const table = qualifiedTableName(this.assetKey);
    const column = quoteIdentifier(scope.column);
    await refuseSnapshotReplace(this, this.assetKey);
    const columnType = await this.#prepareTable(select, params, scope);
    await this.run(`DELETE FROM ${table} WHERE ${scopeFilter(scope, column, columnType)}`);
    const connection = await this.open();
    const inserted = (await connection.run(`INSERT INTO ${table} BY NAME SELECT * FROM (${select})`, toDuckValues(params))).rowsChanged;
    const counts = assignBuckets(scope, await this.all<{ k: string; n: number }>(countRowsSql(scope, table, column, columnType)));
    const inside = [...counts.values()].reduce((a, b) => a + b, 0);
    if (inside !== inserted) throw rowsOutsideError(this.assetKey, scope, inserted - inside, inserted);
    this.partitionRows = counts;
    this.rowsWritten = inserted;
    return inserted;
  }

  /**
   * Creates the table on first write; when the query's columns changed, rebuilds it if the step
   * covers every partition, else fails clearly. Returns the partition column's DuckDB type. A
   * table checked once is not checked again by this warehouse (the rest of the run's steps of
   * one asset run the same query).
   */
  async #prepareTable(select: string, params: readonly SqlParam[], scope: PartitionScope): Promise<string | undefined> {
    const known = this.#warehouse.checkedTables.get(this.assetKey);
    if (known) return known.get(scope.column);
    const table = qualifiedTableName(this.assetKey);
    let existing = await this.#columns();
    if (existing.size === 0) {
      await this.run(`CREATE TABLE ${table} AS SELECT * FROM (${select}) LIMIT 0`, params);
      existing = await this.#columns();
    } else {
      const incoming = (await this.all<{ column_name: string }>(`DESCRIBE SELECT * FROM (${select})`, params)).map((r) => r.column_name);
      const added = incoming.filter((c) => !existing.has(c));
      const removed = [...existing.keys()].filter((c) => !incoming.includes(c));
      if (added.length > 0 || removed.length > 0) {
        if (!scope.complete) {
          const change = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
          throw new StrataError(
            'partition_columns_changed',
            `the columns of ${this.assetKey} changed (${change}): rebuild every partition at once with assets materialize --select ${this.assetKey}`,
            { assetKey: this.assetKey },
          );
        }
        await this.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM (${select}) LIMIT 0`, params);
        existing = await this.#columns();
      }
    }
    this.#checked = existing;
    return existing.get(scope.column);
  }

  /** The asset table's columns and their DuckDB types, as this transaction sees them. */
  #columns(): Promise<Map<string, string>> {
    return this.tableColumns(this.assetKey);
  }

  /** Replaces this asset's view with `select`. */
  async replaceView(select: string): Promise<void> {
    await refuseSnapshotReplace(this, this.assetKey);
    await this.run(`CREATE OR REPLACE VIEW ${qualifiedTableName(this.assetKey)} AS ${select}`);
  }

  replaceTableFromCsv(file: string, columnTypes: Readonly<Record<string, string>>): Promise<number> {
    return this.replaceTable(seedSelect(file, columnTypes));
  }

  /** Row count of an asset's table as this transaction sees it. */
  async rowCount(key: string): Promise<number> {
    const rows = await this.all<{ n: number }>(`SELECT count(*) AS n FROM ${qualifiedTableName(key)}`);
    return Number(rows[0]?.n ?? 0);
  }

  tableOf(key: string): string {
    return qualifiedTableName(key);
  }

  /**
   * The progress of the statement this step is running, when DuckDB can estimate it (a scan of
   * a table or file); `undefined` when no statement runs or DuckDB has no estimate.
   */
  progress(): QueryProgress | undefined {
    const connection = this.openConnection;
    if (connection === undefined) return undefined;
    const { percentage, rows_processed, total_rows_to_process } = connection.progress;
    if (!(percentage >= 0)) return undefined;
    return { percentage: Math.min(100, percentage), rowsProcessed: Number(rows_processed), totalRows: Number(total_rows_to_process) };
  }

  /** The schema of this step's asset. */
  get schema(): string {
    return keyToTable(this.assetKey).schema;
  }

  /** Commits the transaction, if one was opened. */
  override async commit(): Promise<void> {
    await super.commit();
    if (this.#checked) this.#warehouse.checkedTables.set(this.assetKey, this.#checked);
    if (this.#madeSnapshot) await this.#warehouse.addSnapshotTable(this.assetKey);
  }

  /** Whether the asset's table holds a snapshot's history (as committed: see {@link DuckDBWarehouse.isSnapshotTable}). */
  isSnapshotTable(): Promise<boolean> {
    return this.#warehouse.isSnapshotTable(this.assetKey);
  }

  /** Says that this step made the asset's table a snapshot's history table (counted once it commits). */
  madeSnapshot(): void {
    this.#madeSnapshot = true;
  }

  protected borrow(): Promise<DuckDBConnection> {
    return this.#warehouse.acquire();
  }

  protected async begin(connection: DuckDBConnection): Promise<void> {
    await connection.run('BEGIN TRANSACTION');
  }

  protected async finish(connection: DuckDBConnection, statement: TransactionEnd): Promise<void> {
    try {
      await connection.run(statement);
    } finally {
      this.#warehouse.release(connection);
    }
  }

  protected cancelStatement(connection: DuckDBConnection): void {
    connection.interrupt();
  }
}
