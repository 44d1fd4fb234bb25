/**
 * Record builders for the storage contract tests: complete, valid records with explicit
 * timestamps, overridable field by field.
 */

import type { BackfillRecord, CheckResultRecord, EventRecord, MaterializationRecord, RunRecord } from '../../storage/index.ts';

/** A queued manual run created at `createdAt`. */
export function aRun(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    status: 'queued',
    trigger: 'manual',
    selection: 'staging/*',
    assetKeys: ['staging/orders', 'marts/sales'],
    createdAt: 1_000,
    startedAt: null,
    endedAt: null,
    error: null,
    tags: { owner: 'data' },
    ...overrides,
  };
}

/** A running backfill of January 2024 created at `createdAt`, with no runs yet. */
export function aBackfill(id: string, overrides: Partial<BackfillRecord> = {}): BackfillRecord {
  return {
    id,
    selection: 'staging/*',
    from: '2024-01-01',
    to: '2024-01-31',
    status: 'running',
    mode: 'missing_only',
    grouping: 'policy',
    runIds: [],
    total: 62,
    done: 0,
    failed: 0,
    error: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

/** An info `log` event of `runId`. */
export function anEvent(runId: string, message: string, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    runId,
    timestamp: 2_000,
    type: 'log',
    level: 'info',
    assetKey: null,
    partition: null,
    message,
    data: null,
    ...overrides,
  };
}

/** A materialization of `assetKey` (unpartitioned unless `partition` is given) by `runId`. */
export function aMaterialization(
  runId: string,
  assetKey: string,
  partition: string | null,
  overrides: Partial<MaterializationRecord> = {},
): MaterializationRecord {
  return {
    assetKey,
    partition,
    runId,
    timestamp: 3_000,
    codeVersion: 'code-1',
    dataVersion: `data-${assetKey}-${partition ?? 'all'}`,
    inputDataVersions: {},
    rowCount: 10,
    metadata: {},
    readSeq: 0,
    depsVersion: '',
    ...overrides,
  };
}

/** A passing `not_null` check of `assetKey` by `runId`. */
export function aCheckResult(runId: string | null, assetKey: string, checkName: string, overrides: Partial<CheckResultRecord> = {}): CheckResultRecord {
  return {
    runId,
    assetKey,
    partition: null,
    checkName,
    passed: true,
    severity: 'error',
    violations: 0,
    sample: [],
    sql: `select * from t where ${checkName}`,
    durationMs: 1.5,
    timestamp: 4_000,
    ...overrides,
  };
}

/** `record` without its storage-assigned `id`, for comparing with what was written. */
export function withoutId<T extends { readonly id?: number }>(record: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = record;
  return rest;
}
