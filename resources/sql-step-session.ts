/**
 * What every warehouse's step session shares: its asset, its partition window, what it wrote,
 * the lifecycle of its transaction (a pooled connection borrowed on the first statement, one
 * transaction until commit or rollback, refused after an interrupt), and the incremental and
 * snapshot writes, which are dialect-neutral functions of the session (incremental-writes.ts,
 * snapshot-writes.ts). An implementation supplies the statements, the catalog and how its
 * connections are borrowed, begun, ended and canceled.
 */
import type { IncrementalCounts, MergeOptions, MergeResult } from '../core/model/definitions/incremental-config.ts';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import type { SnapshotConfig } from '../core/model/definitions/snapshot-config.ts';
import { StrataError, type ErrorContext } from '../core/model/errors.ts';
import {
  incrementalStart,
  rebuiltTable,
  tableWatermark,
  watermarkLiteral,
  writeIncremental,
  type IncrementalSession,
  type IncrementalStart,
  type SqlDialect,
} from './incremental-writes.ts';
import type { PartitionScope } from './partition-writes.ts';
import { writeSnapshot, type RelationKind, type SnapshotCounts, type SnapshotSession } from './snapshot-writes.ts';

/** How a step's transaction ends. */
export type TransactionEnd = 'COMMIT' | 'ROLLBACK';

/**
 * The part of a step session that is the same on every warehouse. The first statement borrows a
 * connection (`Connection`) and begins a transaction; {@link commit} or {@link rollback} ends it and
 * gives the connection back; after {@link interrupt} every statement is refused.
 */
export abstract class SqlStepSession<Connection> implements IncrementalSession, SnapshotSession {
  /** The asset this step writes. */
  protected readonly assetKey: string;
  readonly #scope: PartitionScope | undefined;
  #opening: Promise<Connection> | undefined;
  #connection: Connection | undefined;
  #ended = false;
  #interrupted = false;
  /** Row count of the last write of the asset's table, if any. */
  rowsWritten: number | undefined;
  /** Rows per partition after {@link replacePartitions} or a partitioned {@link merge}, if one ran. */
  partitionRows: ReadonlyMap<string, number> | undefined;
  /** What a partitioned incremental write did to each partition (see incremental-window.ts). */
  partitionCounts: ReadonlyMap<string, IncrementalCounts> | undefined;

  constructor(key: string, scope: PartitionScope | undefined) {
    this.assetKey = key;
    this.#scope = scope;
  }

  /** The partitions this step writes; `undefined` for an unpartitioned asset. */
  get scope(): PartitionScope | undefined {
    return this.#scope;
  }

  /** True once the step has issued a statement. */
  get used(): boolean {
    return this.#opening !== undefined;
  }

  /** Borrows a connection of the warehouse's pool. */
  protected abstract borrow(): Promise<Connection>;
  /** Begins the step's transaction on the borrowed `connection`. */
  protected abstract begin(connection: Connection): Promise<void>;
  /** Runs `statement` on `connection` and gives the connection back to the pool, also when the statement fails. */
  protected abstract finish(connection: Connection, statement: TransactionEnd): Promise<void>;
  /** Stops the statement running on `connection`, if any (see {@link interrupt}). */
  protected abstract cancelStatement(connection: Connection): void;

  /** The borrowed connection while the transaction is open; `undefined` before the first statement and once ended. */
  protected get openConnection(): Connection | undefined {
    return this.#ended ? undefined : this.#connection;
  }

  /** True once {@link interrupt} was called. */
  protected get interrupted(): boolean {
    return this.#interrupted;
  }

  /** The error of a statement refused or stopped by {@link interrupt}. */
  protected canceled(cause?: unknown): StrataError {
    return new StrataError('interrupted', `the step of ${this.assetKey} was canceled`, { assetKey: this.assetKey }, false, { cause });
  }

  /** The connection of the step's transaction: borrowed and begun by the first statement, the same one for every later one. */
  protected async open(): Promise<Connection> {
    if (this.#interrupted) throw this.canceled();
    if (this.#ended) throw new Error(`the warehouse session of ${this.assetKey} has ended`);
    this.#opening ??= (async () => {
      const connection = await this.borrow();
      this.#connection = connection;
      await this.begin(connection);
      return connection;
    })();
    return this.#opening;
  }

  /** Commits the transaction, if one was opened. */
  async commit(): Promise<void> {
    await this.#end('COMMIT');
  }

  /** Rolls the transaction back, if one was opened; never throws. */
  async rollback(): Promise<void> {
    try {
      await this.#end('ROLLBACK');
    } catch {
      // The connection may be gone, or the transaction already aborted: nothing was committed.
    }
  }

  /** Stops the statement in flight (Ctrl-C) and refuses every later one; the step then fails and rolls back. */
  interrupt(): void {
    this.#interrupted = true;
    const connection = this.openConnection;
    if (connection !== undefined) this.cancelStatement(connection);
  }

  async #end(statement: TransactionEnd): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#opening) return;
    await this.finish(await this.#opening, statement);
  }

  abstract run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  abstract all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  abstract changed(sql: string, params?: readonly SqlParam[]): Promise<number>;
  abstract relationColumns(relation: string): Promise<Map<string, string>>;
  abstract tableColumns(key: string): Promise<Map<string, string>>;
  abstract createTableAs(table: string, select: string, options?: { readonly temporary?: boolean; readonly replace?: boolean }): Promise<void>;
  abstract insertByName(table: string, select: string): Promise<number>;
  abstract replacePartitions(select: string): Promise<number>;
  abstract relationKind(key: string): Promise<RelationKind>;
  abstract isSnapshotTable(): Promise<boolean>;
  abstract madeSnapshot(): void;

  /** Merges (or appends) into the asset's table; in a partitioned step, into the step's partition window only. */
  merge(select: string, options: MergeOptions = {}): Promise<MergeResult> {
    return this.writeIncremental(select, options, false);
  }

  async writeIncremental(select: string, options: MergeOptions, rebuild: boolean): Promise<MergeResult> {
    const result = await writeIncremental(this, this.assetKey, select, options, rebuild);
    this.rowsWritten = result.rowCount;
    return result;
  }

  rebuiltTable(uniqueKey: readonly string[]): Promise<MergeResult> {
    return rebuiltTable(this, this.assetKey, uniqueKey);
  }

  incrementalStart(): Promise<IncrementalStart> {
    return incrementalStart(this, this.assetKey);
  }

  tableWatermark(column: string, where?: string): Promise<string | null> {
    return tableWatermark(this, this.assetKey, column, where);
  }

  watermarkLiteral(
    column: string,
    columns: ReadonlyMap<string, string> | undefined,
    type: string | undefined,
    dialect: SqlDialect,
    where?: string,
  ): Promise<{ literal: string; value: string | null }> {
    return watermarkLiteral(this, this.assetKey, column, columns, type, dialect, where);
  }

  writeSnapshot(
    select: string,
    config: SnapshotConfig,
    now: Date,
    context: ErrorContext & { readonly assetKey: string },
    rebuild = false,
  ): Promise<SnapshotCounts> {
    return writeSnapshot(this, select, config, now, context, rebuild);
  }
}
