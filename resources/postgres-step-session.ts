/**
 * One step's transaction in a Postgres warehouse (see {@link StepSession} in warehouse.ts): one
 * pooled client, borrowed on the first statement, holding one transaction until commit or
 * rollback. A table is replaced by creating it under a temporary name and swapping it in (drop,
 * rename) inside the transaction, so readers see the old table until the step commits.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import { keyToTable, qualifiedTableName, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { StrataError } from '../core/model/errors.ts';
import type { CheckQueries } from './check-queries.ts';
import { assignBuckets, countRowsSql, rowsOutsideError, scopeFilter, type PartitionScope } from './partition-writes.ts';
import { CATALOG_SQL, COLUMNS_SQL, duckdbTypeName, FORMAT_TYPES_SQL, RELATION_KIND_SQL, relationKindOf } from './postgres-catalog.ts';
import { postgresCheckQueries } from './postgres-check-queries.ts';
import { dropWithDependents, restoreViews, type DependentView } from './postgres-dependent-views.ts';
import { loadCsv } from './postgres-seed-csv.ts';
import { toPgValues } from './postgres-warehouse-connection.ts';
import type { PostgresWarehouse } from './postgres-warehouse.ts';
import { refuseSnapshotReplace, type RelationKind } from './snapshot-writes.ts';
import { SqlStepSession, type TransactionEnd } from './sql-step-session.ts';
import type { CatalogEntry, QueryProgress, StepSession } from './warehouse.ts';

/** A table name (`"schema"."table"`, `pg_temp.name`), rather than a query, given to {@link PostgresStepSession.relationColumns}. */
const TABLE_NAME = /^\s*("[^"]+"|\w+)(\.("[^"]+"|\w+))*\s*$/;

/** One step's view of a Postgres warehouse. */
export class PostgresStepSession extends SqlStepSession<pg.PoolClient> implements StepSession {
  readonly dialect = 'postgres' as const;
  readonly #warehouse: PostgresWarehouse;
  /** A statement of this step failed (the transaction is aborted: the client goes back closed). */
  #failed = false;

  constructor(warehouse: PostgresWarehouse, key: string, scope?: PartitionScope) {
    super(key, scope);
    this.#warehouse = warehouse;
    // Before Postgres 15 there is no MERGE: the incremental writes delete matching keys, then insert.
    this.mergeByKey = warehouse.hasMerge ? this.merged.bind(this) : undefined;
  }

  get checkQueries(): CheckQueries {
    return postgresCheckQueries;
  }

  get schema(): string {
    return keyToTable(this.assetKey).schema;
  }

  tableOf(key: string): string {
    return qualifiedTableName(key);
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.#query(sql, params);
  }

  async all<T extends Row = Row>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await this.#query(sql, params)).rows as T[];
  }

  async changed(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return (await this.#query(sql, params)).rowCount ?? 0;
  }

  /** A named prepared statement: Postgres parses and plans it once per connection. */
  async runPrepared(sql: string, params: readonly SqlParam[]): Promise<void> {
    const name = `strata_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    await this.#query({ name, text: sql, values: toPgValues(params) }, []);
  }

  /** The columns of a table or query (bound, not run: `LIMIT 0`), typed as {@link duckdbTypeName} spells them. */
  relationColumns(relation: string, params: readonly SqlParam[] = []): Promise<Map<string, string>> {
    const select = TABLE_NAME.test(relation) ? `SELECT * FROM ${relation} LIMIT 0` : `SELECT * FROM (${relation}) AS __relation LIMIT 0`;
    return this.#resultColumns(select, params);
  }

  /**
   * The columns of an asset's table (none when it does not exist). When the step finds its own
   * asset's table missing it is about to create it, and so may a step writing another partition
   * of it in another process: both would pass the check and the second CREATE would fail on the
   * catalog's unique index. So it first takes a lock of that asset held to the end of the
   * transaction and looks again: the first creator goes on, the others see its table once it commits.
   */
  async tableColumns(key: string): Promise<Map<string, string>> {
    const columns = await this.#columnsOf(key);
    if (columns.size > 0 || key !== this.assetKey) return columns;
    await this.all('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`strata table ${key}`]);
    return this.#columnsOf(key);
  }

  async #columnsOf(key: string): Promise<Map<string, string>> {
    const { schema, table } = keyToTable(key);
    const rows = await this.all<{ c: string; t: string }>(COLUMNS_SQL, [schema, table]);
    return new Map(rows.map((r) => [r.c, duckdbTypeName(r.t)]));
  }

  async catalog(): Promise<CatalogEntry[]> {
    const rows = await this.all<{ s: string; n: string; kind: 'table' | 'view'; oid: number; shape: string | null }>(CATALOG_SQL);
    return rows.map((r) => ({ schema: r.s, name: r.n, kind: r.kind, identity: String(r.oid), shape: String(r.shape) }));
  }

  async relationKind(key: string): Promise<RelationKind> {
    const { schema, table } = keyToTable(key);
    return relationKindOf((await this.all<{ kind: string; comment: string | null }>(RELATION_KIND_SQL, [schema, table]))[0]);
  }

  async isSnapshotTable(): Promise<boolean> {
    return (await this.relationKind(this.assetKey)) === 'snapshot';
  }

  /** Nothing to remember: the table's comment marks it, and every process reads the catalog. */
  madeSnapshot(): void {}

  /** Replacing the asset's own table (a rebuild) drops the views reading it and creates them again on the new one. */
  async createTableAs(table: string, select: string, options: { readonly temporary?: boolean; readonly replace?: boolean } = {}): Promise<void> {
    if (options.replace && !options.temporary && table === qualifiedTableName(this.assetKey)) {
      const dependents = await this.#dropAsset();
      await this.run(`CREATE TABLE ${table} AS ${select}`);
      await this.#restoreViews(dependents);
      return;
    }
    if (options.replace) await this.run(`DROP TABLE IF EXISTS ${options.temporary ? `pg_temp.${table}` : table}`);
    await this.run(`CREATE ${options.temporary ? 'TEMP ' : ''}TABLE ${table} AS ${select}`);
  }

  async insertByName(table: string, select: string, params: readonly SqlParam[] = []): Promise<number> {
    const columns = [...(await this.relationColumns(select, params)).keys()].map(quoteIdentifier).join(', ');
    return this.changed(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM (${select}) AS __rows`, params);
  }

  /**
   * Postgres's MERGE (15+; offered as `mergeByKey` when the server has it): rows of `staged`
   * whose keys match a row of `table` (within `window`) update it, the others are inserted. The inserted ones are counted first (no match), the rest
   * of the rows MERGE changed are updates. No unique index is needed.
   */
  readonly mergeByKey: PostgresStepSession['merged'] | undefined;

  async merged(
    table: string,
    staged: string,
    keys: readonly string[],
    columns: readonly string[],
    window: string | undefined,
  ): Promise<{ inserted: number; updated: number }> {
    const on = [...keys.map((k) => `t.${quoteIdentifier(k)} = s.${quoteIdentifier(k)}`), ...(window === undefined ? [] : [`(${window})`])].join(' AND ');
    const [fresh] = await this.all<{ n: number }>(`SELECT count(*) AS n FROM ${staged} AS s WHERE NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE ${on})`);
    const inserted = Number(fresh?.n ?? 0);
    // Every column is a key: a matched row is still counted as updated (set to itself), as DuckDB's delete+insert counts it.
    const others = columns.filter((c) => !keys.includes(c));
    const set = (others.length > 0 ? others : keys.slice(0, 1)).map((c) => `${quoteIdentifier(c)} = s.${quoteIdentifier(c)}`).join(', ');
    const names = columns.map(quoteIdentifier);
    const changed = await this.changed(
      `MERGE INTO ${table} AS t USING ${staged} AS s ON ${on} WHEN MATCHED THEN UPDATE SET ${set} WHEN NOT MATCHED THEN INSERT (${names.join(', ')}) VALUES (${names.map((c) => `s.${c}`).join(', ')})`,
    );
    return { inserted, updated: changed - inserted };
  }

  /** Creates the new table under a temporary name, then swaps it in for the old table or view, in the step's transaction. */
  async replaceTable(select: string, params: readonly SqlParam[] = []): Promise<number> {
    await refuseSnapshotReplace(this, this.assetKey);
    const { schema, table } = keyToTable(this.assetKey);
    const temporary = `${table.slice(0, 40)}__strata_new_${randomBytes(4).toString('hex')}`;
    const created = await this.changed(`CREATE TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(temporary)} AS ${select}`, params);
    const dependents = await this.#dropAsset();
    await this.run(`ALTER TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(temporary)} RENAME TO ${quoteIdentifier(table)}`);
    await this.#restoreViews(dependents);
    this.rowsWritten = created;
    return created;
  }

  /**
   * Replaces this step's partitions: creates the table on first write, deletes the rows of the
   * step's window (or static keys) and inserts the new rows by column name, in the step's
   * transaction. Fails (and so rolls back) when a row falls outside the step's partitions, or
   * when the query's columns changed and the step does not cover every partition.
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
    const inserted = await this.insertByName(table, select, params);
    const counts = assignBuckets(scope, await this.all<{ k: string; n: number }>(countRowsSql(scope, table, column, columnType)));
    const inside = [...counts.values()].reduce((a, b) => a + b, 0);
    if (inside !== inserted) throw rowsOutsideError(this.assetKey, scope, inserted - inside, inserted);
    this.partitionRows = counts;
    this.rowsWritten = inserted;
    return inserted;
  }

  /** Creates the partitioned table on first write, or rebuilds it when its columns changed and the step covers every partition. Returns the partition column's type. */
  async #prepareTable(select: string, params: readonly SqlParam[], scope: PartitionScope): Promise<string | undefined> {
    const table = qualifiedTableName(this.assetKey);
    const empty = `SELECT * FROM (${select}) AS __rows LIMIT 0`;
    let existing = await this.tableColumns(this.assetKey);
    if (existing.size === 0) {
      await this.run(`CREATE TABLE ${table} AS ${empty}`, params);
      return (await this.tableColumns(this.assetKey)).get(scope.column);
    }
    const incoming = [...(await this.relationColumns(select, params)).keys()];
    const added = incoming.filter((c) => !existing.has(c));
    const removed = [...existing.keys()].filter((c) => !incoming.includes(c));
    if (added.length === 0 && removed.length === 0) return existing.get(scope.column);
    if (!scope.complete) {
      const change = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
      throw new StrataError(
        'partition_columns_changed',
        `the columns of ${this.assetKey} changed (${change}): rebuild every partition at once with assets materialize --select ${this.assetKey}`,
        { assetKey: this.assetKey },
      );
    }
    const dependents = await this.#dropAsset();
    await this.run(`CREATE TABLE ${table} AS ${empty}`, params);
    await this.#restoreViews(dependents);
    existing = await this.tableColumns(this.assetKey);
    return existing.get(scope.column);
  }

  async replaceView(select: string): Promise<void> {
    await refuseSnapshotReplace(this, this.assetKey);
    const dependents = await this.#dropAsset();
    await this.run(`CREATE VIEW ${qualifiedTableName(this.assetKey)} AS ${select}`);
    await this.#restoreViews(dependents);
  }

  /** Loads the CSV with COPY into a staging table, then replaces the asset's table with its rows, typed (see postgres-seed-csv.ts). */
  async replaceTableFromCsv(file: string, columnTypes: Readonly<Record<string, string>>): Promise<number> {
    const select = await loadCsv(this, await this.open(), file, columnTypes);
    return this.replaceTable(select);
  }

  /** Drops the asset's table or view, if there is one, with the views that read it (returned, to create again). */
  #dropAsset(): Promise<DependentView[]> {
    return dropWithDependents(this, this.assetKey);
  }

  /** Creates again the views {@link #dropAsset} dropped. */
  #restoreViews(views: readonly DependentView[]): Promise<void> {
    return restoreViews(this, this.assetKey, views);
  }

  /** Postgres gives no estimate of a statement's progress. */
  progress(): QueryProgress | undefined {
    return undefined;
  }

  /** The columns of a result, from its field descriptions (the statement is run: give it `LIMIT 0`). */
  async #resultColumns(select: string, params: readonly SqlParam[]): Promise<Map<string, string>> {
    const { fields } = await this.#query(select, params);
    const types = await this.all<{ t: string }>(FORMAT_TYPES_SQL, [fields.map((f) => String(f.dataTypeID)), fields.map((f) => String(f.dataTypeModifier))]);
    return new Map(fields.map((f, i) => [f.name, duckdbTypeName(types[i]?.t ?? 'text')]));
  }

  async #query(sql: string | pg.QueryConfig, params: readonly SqlParam[]): Promise<pg.QueryResult> {
    const client = await this.open();
    try {
      if (typeof sql !== 'string') return await client.query(sql);
      return await (params.length === 0 ? client.query(sql) : client.query(sql, toPgValues(params)));
    } catch (error) {
      this.#failed = true;
      if (this.interrupted) throw this.canceled(error);
      throw error;
    }
  }

  protected borrow(): Promise<pg.PoolClient> {
    return this.#warehouse.lend();
  }

  protected async begin(client: pg.PoolClient): Promise<void> {
    await client.query('BEGIN');
  }

  /** Cancels the statement in flight (pg_cancel_backend, from another connection). */
  protected cancelStatement(client: pg.PoolClient): void {
    const processID = (client as pg.PoolClient & { processID?: number }).processID;
    if (processID !== undefined) void this.#warehouse.cancel(processID).catch(() => undefined);
  }

  /** A client whose COMMIT or ROLLBACK failed, or whose interrupted statement failed, goes back closed. */
  protected async finish(client: pg.PoolClient, statement: TransactionEnd): Promise<void> {
    let broken = false;
    try {
      const result = await client.query(statement);
      // COMMIT of an aborted transaction rolls it back without an error: say so.
      if (statement === 'COMMIT' && result.command === 'ROLLBACK')
        throw new StrataError(
          'commit_failed',
          `the step of ${this.assetKey} could not commit: an earlier statement failed`,
          { assetKey: this.assetKey },
          false,
        );
    } catch (error) {
      broken = !(error instanceof StrataError);
      throw error;
    } finally {
      this.#warehouse.giveBack(client, broken || (this.#failed && statement === 'ROLLBACK' && this.interrupted));
    }
  }
}
