/**
 * What every warehouse's step session shares: its asset, its partition window, what it wrote,
 * and the incremental and snapshot writes, which are dialect-neutral functions of the session
 * (incremental-writes.ts, snapshot-writes.ts). An implementation supplies the statements, the
 * catalog and the transaction.
 */
import type { IncrementalCounts, MergeOptions, MergeResult } from '../core/model/definitions/incremental-config.ts';
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import type { SnapshotConfig } from '../core/model/definitions/snapshot-config.ts';
import type { ErrorContext } from '../core/model/errors.ts';
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

/** The part of a step session that is the same on every warehouse. */
export abstract class SqlStepSession implements IncrementalSession, SnapshotSession {
  /** The asset this step writes. */
  protected readonly assetKey: string;
  readonly #scope: PartitionScope | undefined;
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
