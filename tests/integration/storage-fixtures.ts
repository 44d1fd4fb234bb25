/**
 * Record builders for the storage contract tests: complete, valid records with explicit
 * timestamps, overridable field by field.
 */

import { expect } from 'vitest';
import type { AssetDataSummary, BackfillRecord, CheckResultRecord, EventRecord, MaterializationRecord, RunRecord, Storage } from '../../storage/index.ts';

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

/**
 * Fills `storage` with 2,100 assets of two partitions each (2025-01-02 written first) and one
 * observed source, enough for a storage to split its staleness pass, and checks that the summaries
 * of the named keys (the split pass) equal those of one pass over everything. Returns the last
 * asset's summary, for the checks of one storage.
 */
export async function expectSplitSummariesOfManyAssets(storage: Storage): Promise<AssetDataSummary | undefined> {
  await storage.createRun(aRun('big'));
  const keys = Array.from({ length: 2_100 }, (_, i) => `layer/asset_${String(i).padStart(4, '0')}`);
  const materializations = keys.flatMap((key, i) =>
    ['2025-01-02', '2025-01-01'].map((day) => aMaterialization('big', key, day, { codeVersion: `c${i % 3}`, depsVersion: 'd', readSeq: i })),
  );
  await storage.commitStep({ events: [], materializations });
  await storage.recordObservations([{ assetKey: 'landing/a', partition: null, dataVersion: 'v', timestamp: 1, metadata: {} }]);
  const split = await storage.dataSummaries([...keys, 'landing/a']);
  const single = await storage.dataSummaries();
  expect(split).toHaveLength(2_101);
  const plain = (summaries: typeof split) => summaries.map((s) => ({ ...s, seqs: [...s.seqs], readSeqs: [...s.readSeqs] }));
  expect(plain(split)).toEqual(plain(single));
  const last = split.find((s) => s.key === 'layer/asset_2099');
  expect(last).toMatchObject({ count: 2, first: '2025-01-01', last: '2025-01-02', minCodeVersion: 'c2', maxDepsVersion: 'd' });
  expect([...(last?.readSeqs ?? [])]).toEqual([2099, 2099]);
  return last;
}
