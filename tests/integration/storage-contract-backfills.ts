/**
 * The part of the storage contract backfills depend on: backfill records (create, update,
 * find, list) and the latest failed attempt of every asset partition, read from the event
 * log. Used by ./storage-contract.ts.
 */

import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../core/model/errors.ts';
import { StorageError } from '../../storage/index.ts';
import type { Storage, StepFailureRecord } from '../../storage/index.ts';
import { aBackfill, aMaterialization, anEvent, aRun } from './storage-fixtures.ts';

/** Defines the backfill and step-failure tests; `storage` gives the test's storage. */
export function storageBackfillsContract(storage: () => Storage): void {
  describe('backfills', () => {
    it('creates a backfill and reads it back whole, run ids included', async () => {
      const backfill = aBackfill('b1', { runIds: ['run-1', 'rün-2 ✓'], grouping: 'per_partition', mode: 'all' });
      await storage().createBackfill(backfill);
      expect(await storage().getBackfill('b1')).toEqual(backfill);
      expect(await storage().getBackfill('missing')).toBeUndefined();
    });

    it('refuses a second backfill with the same id', async () => {
      await storage().createBackfill(aBackfill('b1'));
      const error = await storage()
        .createBackfill(aBackfill('b1', { selection: 'other' }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'backfill_exists', backfillId: 'b1' });
      expect((await storage().getBackfill('b1'))?.selection).toBe('staging/*');
    });

    it('keeps backfill ids apart from run ids', async () => {
      await storage().createRun(aRun('same'));
      await storage().createBackfill(aBackfill('same'));
      expect(await storage().getBackfill('same')).toEqual(aBackfill('same'));
    });

    it('updates only the given fields', async () => {
      await storage().createBackfill(aBackfill('b1'));
      await storage().updateBackfill('b1', { runIds: ['r1'], updatedAt: 1_100 });
      await storage().updateBackfill('b1', { done: 40, failed: 2, updatedAt: 1_200 });
      await storage().updateBackfill('b1', { status: 'failed', error: 'boom', runIds: ['r1', 'r2'] });
      await storage().updateBackfill('b1', {});
      expect(await storage().getBackfill('b1')).toEqual(
        aBackfill('b1', { runIds: ['r1', 'r2'], done: 40, failed: 2, status: 'failed', error: 'boom', updatedAt: 1_200 }),
      );
      await storage().updateBackfill('b1', { status: 'running', error: null, total: 70, runIds: [] });
      expect(await storage().getBackfill('b1')).toMatchObject({ status: 'running', error: null, total: 70, runIds: [], done: 40 });
    });

    it('reports an update of an unknown backfill', async () => {
      await expect(storage().updateBackfill('missing', { status: 'success' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage().updateBackfill('missing', {})).rejects.toBeInstanceOf(NotFoundError);
    });

    it('finds backfills by id prefix, newest first, at most 10, case-sensitively', async () => {
      for (let i = 0; i < 12; i++) await storage().createBackfill(aBackfill(`bf${i}`, { createdAt: 1_000 + i }));
      await storage().createBackfill(aBackfill('bg', { createdAt: 5_000 }));
      await storage().createBackfill(aBackfill('BF', { createdAt: 5_000 }));
      const found = await storage().findBackfillsByPrefix('bf');
      expect(found.map((b) => b.id)).toEqual(['bf11', 'bf10', 'bf9', 'bf8', 'bf7', 'bf6', 'bf5', 'bf4', 'bf3', 'bf2']);
      expect((await storage().findBackfillsByPrefix('bg')).map((b) => b.id)).toEqual(['bg']);
      expect(await storage().findBackfillsByPrefix('zzz')).toEqual([]);
    });

    it('treats LIKE wildcards in a prefix literally', async () => {
      await storage().createBackfill(aBackfill('a_b', { createdAt: 1 }));
      await storage().createBackfill(aBackfill('axb', { createdAt: 2 }));
      await storage().createBackfill(aBackfill('a%c', { createdAt: 3 }));
      await storage().createBackfill(aBackfill('a\\d', { createdAt: 4 }));
      expect((await storage().findBackfillsByPrefix('a_')).map((b) => b.id)).toEqual(['a_b']);
      expect((await storage().findBackfillsByPrefix('a%')).map((b) => b.id)).toEqual(['a%c']);
      expect((await storage().findBackfillsByPrefix('a\\')).map((b) => b.id)).toEqual(['a\\d']);
    });

    it('lists backfills newest first by creation time, then id, and pages', async () => {
      expect(await storage().listBackfills()).toEqual([]);
      await storage().createBackfill(aBackfill('b', { createdAt: 2 }));
      await storage().createBackfill(aBackfill('a', { createdAt: 2 }));
      await storage().createBackfill(aBackfill('c', { createdAt: 1 }));
      await storage().createBackfill(aBackfill('d', { createdAt: 3, updatedAt: 0 }));
      const ids = async (options?: Parameters<Storage['listBackfills']>[0]) => (await storage().listBackfills(options)).map((b) => b.id);
      expect(await ids()).toEqual(['d', 'b', 'a', 'c']);
      expect(await ids({ limit: 2 })).toEqual(['d', 'b']);
      expect(await ids({ limit: 2, offset: 2 })).toEqual(['a', 'c']);
      expect(await ids({ offset: 3 })).toEqual(['c']);
      expect(await ids({ limit: 0 })).toEqual([]);
      expect((await storage().listBackfills({ limit: 1 }))[0]).toEqual(aBackfill('d', { createdAt: 3, updatedAt: 0 }));
    });

    it('rejects invalid paging', async () => {
      await expect(storage().listBackfills({ limit: -1 })).rejects.toBeInstanceOf(UsageError);
      await expect(storage().listBackfills({ offset: 1.5 })).rejects.toBeInstanceOf(UsageError);
    });
  });

  describe('latest step failures', () => {
    beforeEach(async () => {
      await storage().createRun(aRun('f1', { createdAt: 10 }));
      await storage().createRun(aRun('f2', { createdAt: 11 }));
    });

    /** A `step_failure` event of `key` (and `partition`) in `runId`. */
    const failure = (runId: string, key: string | null, partition: string | null, message: string, timestamp = 2_000) =>
      anEvent(runId, message, { type: 'step_failure', level: 'error', assetKey: key, partition, timestamp });
    const brief = (f: StepFailureRecord) => `${f.assetKey}@${f.partition ?? '-'}:${f.runId}:${f.message}`;

    it('is empty without failures', async () => {
      expect(await storage().latestStepFailures()).toEqual([]);
      await storage().appendEvents([
        anEvent('f1', 'ok', { type: 'step_success', assetKey: 'a/x', partition: 'p1' }),
        anEvent('f1', 'note', { assetKey: 'a/x' }),
        anEvent('f1', 'run failed', { type: 'run_failure', level: 'error' }),
      ]);
      expect(await storage().latestStepFailures()).toEqual([]);
      expect(await storage().latestStepFailures(['a/x'])).toEqual([]);
    });

    it('keeps the latest failure per asset and partition, unpartitioned as null', async () => {
      await storage().appendEvents([
        failure('f1', 'a/y', '2024-01-02', 'y2 first'),
        failure('f1', 'a/x', null, 'x first'),
        failure('f1', 'a/y', '2024-01-01', 'y1 first'),
        anEvent('f1', 'in between', { type: 'step_start', assetKey: 'a/y', partition: '2024-01-01' }),
      ]);
      await storage().commitStep({ events: [failure('f2', 'a/y', '2024-01-01', 'y1 second', 2_500)] });
      // A later event wins even with an earlier timestamp: latest means most recently recorded.
      await storage().appendEvents([failure('f2', 'a/x', null, 'x second', 1), failure('f2', 'a/x', 'p1', 'x partitioned')]);
      const latest = await storage().latestStepFailures();
      expect(latest.map(brief)).toEqual(['a/x@-:f2:x second', 'a/x@p1:f2:x partitioned', 'a/y@2024-01-01:f2:y1 second', 'a/y@2024-01-02:f1:y2 first']);
      const events = [...(await storage().listEvents('f1')), ...(await storage().listEvents('f2'))];
      const event = events.find((e) => e.message === 'y1 second')!;
      expect(latest[2]).toEqual({
        assetKey: 'a/y',
        partition: '2024-01-01',
        runId: 'f2',
        timestamp: 2_500,
        eventId: event.id,
        message: 'y1 second',
      });
      expect(latest[0]!.timestamp).toBe(1);
    });

    it('ignores failure events without an asset', async () => {
      await storage().appendEvents([failure('f1', null, null, 'run-level'), failure('f1', 'a/x', null, 'step')]);
      expect((await storage().latestStepFailures()).map(brief)).toEqual(['a/x@-:f1:step']);
    });

    it('still reports a failure after a later materialization (callers compare times)', async () => {
      await storage().appendEvents([failure('f1', 'a/x', null, 'failed', 2_000)]);
      await storage().commitStep({ events: [], materializations: [aMaterialization('f2', 'a/x', null, { timestamp: 3_000 })] });
      expect((await storage().latestStepFailures()).map(brief)).toEqual(['a/x@-:f1:failed']);
    });

    it('filters by asset keys, also thousands of them', async () => {
      await storage().appendEvents([
        failure('f1', 'a/x', null, 'x'),
        failure('f1', 'a/y', 'p1', 'y1'),
        failure('f1', 'a/y', 'p2', 'y2'),
        failure('f1', 'a/z', null, 'z'),
      ]);
      expect((await storage().latestStepFailures(['a/z', 'a/y', 'a/missing'])).map(brief)).toEqual(['a/y@p1:f1:y1', 'a/y@p2:f1:y2', 'a/z@-:f1:z']);
      expect(await storage().latestStepFailures([])).toEqual([]);
      expect(await storage().latestStepFailures(['a/missing'])).toEqual([]);
      const many = [...Array.from({ length: 5_000 }, (_, i) => `b/k${i}`), 'a/x'];
      expect((await storage().latestStepFailures(many)).map(brief)).toEqual(['a/x@-:f1:x']);
    });
  });
}
