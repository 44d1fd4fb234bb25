/**
 * Conversion between API records and table rows (see ./schema.ts). Shared by the SQLite and
 * in-memory implementations so both store and return exactly the same values.
 */

import type { Selectable } from 'kysely';
import {
  parseJsonArray,
  parseJsonObject,
  parseNullableJsonObject,
  partitionFromColumn,
  partitionToColumn,
  toJsonText,
  toNullableJsonText,
} from './column-codecs.ts';
import type {
  BackfillsTable,
  CheckResultsTable,
  EventsTable,
  LatestCheckResultsTable,
  LatestMaterializationsTable,
  MaterializationsTable,
  RunsTable,
} from './schema.ts';
import type {
  BackfillRecord,
  BackfillStatus,
  BackfillUpdate,
  CheckResultRecord,
  EventLevel,
  EventRecord,
  EventType,
  MaterializationRecord,
  RunRecord,
  RunStatus,
  RunTrigger,
  StepFailureRecord,
} from './storage.ts';
import type { LeaseRecord } from './lease-store.ts';

/** A `runs` row. */
export type RunRow = Selectable<RunsTable>;
/** An `events` row as read. */
export type EventRow = Selectable<EventsTable>;
/** An `events` row to insert (the id is assigned by storage). */
export type NewEventRow = Omit<EventRow, 'id'>;
/** A `materializations` row as read. */
export type MaterializationRow = Selectable<MaterializationsTable>;
/** A `materializations` row to insert. */
export type NewMaterializationRow = Omit<MaterializationRow, 'id'>;
/** A `latest_materializations` row. */
export type LatestMaterializationRow = Selectable<LatestMaterializationsTable>;

/** The `latest_materializations` row that copies a `materializations` row. */
export function latestMaterializationRow(row: NewMaterializationRow, id: number): LatestMaterializationRow {
  return { ...row, materialization_id: id, version_key: `${row.code_version} ${row.deps_version}` };
}
/** A `check_results` row as read. */
export type CheckResultRow = Selectable<CheckResultsTable>;
/** A `check_results` row to insert. */
export type NewCheckResultRow = Omit<CheckResultRow, 'id'>;
/** A `latest_check_results` row. */
export type LatestCheckResultRow = Selectable<LatestCheckResultsTable>;

/** A `backfills` row, without the reserved `partition_state` column. */
export type BackfillRow = Omit<Selectable<BackfillsTable>, 'partition_state'>;

/** The row of a new run. */
export function runToRow(run: RunRecord): RunRow {
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    selection: run.selection,
    asset_keys: toJsonText(run.assetKeys),
    created_at: run.createdAt,
    started_at: run.startedAt,
    ended_at: run.endedAt,
    error: run.error,
    tags: toJsonText(run.tags),
    heartbeat_at: run.heartbeatAt ?? null,
    pid: run.pid ?? null,
    request: run.request == null ? null : toJsonText(run.request),
    pools: run.pools == null ? null : toJsonText(run.pools),
  };
}

/** The run a row holds. */
export function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    status: row.status as RunStatus,
    trigger: row.trigger as RunTrigger,
    selection: row.selection,
    assetKeys: parseJsonArray<string>(row.asset_keys),
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: row.error,
    tags: parseJsonObject<Record<string, string>>(row.tags),
    ...(row.heartbeat_at == null ? {} : { heartbeatAt: row.heartbeat_at }),
    ...(row.pid == null ? {} : { pid: row.pid }),
    ...(row.request == null ? {} : { request: parseJsonObject<Record<string, unknown>>(row.request) }),
    ...(row.pools == null ? {} : { pools: parseJsonArray<string>(row.pools) }),
  };
}

/** The row of a new event; its id is ignored (storage assigns one). */
export function eventToRow(event: EventRecord): NewEventRow {
  return {
    run_id: event.runId,
    timestamp: event.timestamp,
    type: event.type,
    level: event.level,
    asset_key: event.assetKey,
    partition_key: event.partition,
    message: event.message,
    data: toNullableJsonText(event.data),
  };
}

/** The event a row holds. */
export function eventFromRow(row: EventRow): EventRecord {
  return {
    id: row.id,
    runId: row.run_id,
    timestamp: row.timestamp,
    type: row.type as EventType,
    level: row.level as EventLevel,
    assetKey: row.asset_key,
    partition: row.partition_key,
    message: row.message,
    data: parseNullableJsonObject(row.data),
  };
}

/** The columns of a `step_failure` event that its {@link StepFailureRecord} holds. */
export type StepFailureRow = Pick<EventRow, 'id' | 'run_id' | 'timestamp' | 'partition_key' | 'message'> & { asset_key: string };

/** The failure a `step_failure` event row (with its asset key set) records. */
export function stepFailureFromRow(row: StepFailureRow): StepFailureRecord {
  return {
    assetKey: row.asset_key,
    partition: partitionFromColumn(row.partition_key),
    runId: row.run_id,
    timestamp: row.timestamp,
    eventId: row.id,
    message: row.message,
  };
}

/** The row of a new materialization; its id is ignored (storage assigns one). */
export function materializationToRow(m: MaterializationRecord): NewMaterializationRow {
  return {
    asset_key: m.assetKey,
    partition_key: partitionToColumn(m.partition),
    run_id: m.runId,
    timestamp: m.timestamp,
    code_version: m.codeVersion,
    data_version: m.dataVersion,
    input_data_versions: toJsonText(m.inputDataVersions),
    row_count: m.rowCount,
    metadata: toJsonText(m.metadata),
    read_seq: m.readSeq ?? 0,
    deps_version: m.depsVersion ?? '',
  };
}

/** The materialization a `materializations` row holds. */
export function materializationFromRow(row: MaterializationRow): MaterializationRecord {
  return {
    id: row.id,
    assetKey: row.asset_key,
    partition: partitionFromColumn(row.partition_key),
    runId: row.run_id,
    timestamp: row.timestamp,
    codeVersion: row.code_version,
    dataVersion: row.data_version,
    inputDataVersions: parseJsonObject<Record<string, string>>(row.input_data_versions),
    rowCount: row.row_count,
    metadata: parseJsonObject(row.metadata),
    readSeq: row.read_seq,
    depsVersion: row.deps_version,
  };
}

/** The materialization a `latest_materializations` row copies. */
export function latestMaterializationFromRow(row: LatestMaterializationRow): MaterializationRecord {
  const { materialization_id: id, version_key: _versionKey, ...columns } = row;
  return materializationFromRow({ id, ...columns });
}

/** The row of a new check result; its id is ignored (storage assigns one). */
export function checkResultToRow(c: CheckResultRecord): NewCheckResultRow {
  return {
    run_id: c.runId,
    asset_key: c.assetKey,
    partition_key: partitionToColumn(c.partition),
    check_name: c.checkName,
    passed: c.passed ? 1 : 0,
    severity: c.severity,
    violations: c.violations,
    sample: toJsonText(c.sample),
    sql: c.sql,
    duration_ms: c.durationMs,
    timestamp: c.timestamp,
    error: c.error ?? null,
  };
}

/** The check result a `check_results` row holds. */
export function checkResultFromRow(row: CheckResultRow): CheckResultRecord {
  return checkResult(row.id, row);
}

/** The check result a `latest_check_results` row copies. */
export function latestCheckResultFromRow(row: LatestCheckResultRow): CheckResultRecord {
  return checkResult(row.check_result_id, row);
}

function checkResult(id: number, row: NewCheckResultRow): CheckResultRecord {
  return {
    id,
    runId: row.run_id,
    assetKey: row.asset_key,
    partition: partitionFromColumn(row.partition_key),
    checkName: row.check_name,
    passed: row.passed === 1,
    severity: row.severity as CheckResultRecord['severity'],
    violations: row.violations,
    sample: parseJsonArray<Record<string, unknown>>(row.sample),
    sql: row.sql,
    durationMs: row.duration_ms,
    timestamp: row.timestamp,
    ...(row.error === null ? {} : { error: row.error }),
  };
}

/** The row of a new backfill. */
export function backfillToRow(b: BackfillRecord): BackfillRow {
  return {
    id: b.id,
    selection: b.selection,
    range_from: b.from,
    range_to: b.to,
    status: b.status,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    mode: b.mode,
    grouping: b.grouping,
    run_ids: toJsonText(b.runIds),
    total: b.total,
    done: b.done,
    failed: b.failed,
    error: b.error,
  };
}

/** The backfill a row holds. */
export function backfillFromRow(row: BackfillRow): BackfillRecord {
  return {
    id: row.id,
    selection: row.selection,
    from: row.range_from,
    to: row.range_to,
    status: row.status as BackfillStatus,
    mode: row.mode as BackfillRecord['mode'],
    grouping: row.grouping as BackfillRecord['grouping'],
    runIds: parseJsonArray<string>(row.run_ids),
    total: row.total,
    done: row.done,
    failed: row.failed,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The columns a backfill update sets: only the fields given (not `undefined`). */
export function backfillUpdateToRow(update: BackfillUpdate): Partial<BackfillRow> {
  const set: Partial<BackfillRow> = {};
  if (update.status !== undefined) set.status = update.status;
  if (update.runIds !== undefined) set.run_ids = toJsonText(update.runIds);
  if (update.total !== undefined) set.total = update.total;
  if (update.done !== undefined) set.done = update.done;
  if (update.failed !== undefined) set.failed = update.failed;
  if (update.error !== undefined) set.error = update.error;
  if (update.updatedAt !== undefined) set.updated_at = update.updatedAt;
  return set;
}

/** The columns of a `leases` row a lease record is read from. */
export interface LeaseColumns {
  readonly asset_key: string;
  readonly partition_key: string;
  readonly run_id: string;
  readonly acquired_at: number;
  readonly expires_at: number;
}

/** The lease a `leases` row holds. */
export function leaseFromRow(row: LeaseColumns): LeaseRecord {
  return {
    assetKey: row.asset_key,
    partition: partitionFromColumn(row.partition_key),
    runId: row.run_id,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}
