/**
 * The storage contract suite: every Storage implementation must pass it. Call
 * {@link storageContract} from an implementation's test file with a factory that returns a
 * fresh, empty storage.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../core/model/errors.ts';
import { StorageError } from '../../storage/index.ts';
import type { Storage } from '../../storage/index.ts';
import { storageBackfillsContract } from './storage-contract-backfills.ts';
import { storageColumnLineageContract } from './storage-contract-column-lineage.ts';
import { storageQueueContract } from './storage-contract-queue.ts';
import { storageResultsContract } from './storage-contract-results.ts';
import { storageStalenessContract } from './storage-contract-staleness.ts';
import { aRun, anEvent } from './storage-fixtures.ts';

/** Gives each test a fresh storage from `makeStorage` and closes it afterwards. */
export function useStorage(makeStorage: () => Promise<Storage>): () => Storage {
  let storage: Storage | undefined;
  beforeEach(async () => {
    storage = await makeStorage();
  });
  afterEach(async () => {
    await storage?.close();
    storage = undefined;
  });
  return () => {
    if (storage === undefined) throw new Error('storage is only available inside a test');
    return storage;
  };
}

/**
 * Defines the contract tests for the storage `makeStorage` creates.
 *
 * @example
 * storageContract('InMemoryStorage', async () => new InMemoryStorage());
 */
export function storageContract(name: string, makeStorage: () => Promise<Storage>): void {
  describe(`${name} storage contract`, () => {
    const storage = useStorage(makeStorage);

    describe('runs', () => {
      it('creates a run and reads it back whole', async () => {
        const run = aRun('r1', { tags: { owner: 'data', ünïcode: '✓' } });
        await storage().createRun(run);
        expect(await storage().getRun('r1')).toEqual(run);
        expect(await storage().getRun('missing')).toBeUndefined();
      });

      it('refuses a second run with the same id', async () => {
        await storage().createRun(aRun('r1'));
        const error = await storage()
          .createRun(aRun('r1', { selection: 'other' }))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'run_exists' });
        expect((await storage().getRun('r1'))?.selection).toBe('staging/*');
      });

      it('updates only the given fields', async () => {
        await storage().createRun(aRun('r1'));
        await storage().updateRun('r1', { status: 'running', startedAt: 1_100 });
        await storage().updateRun('r1', { status: 'failed', endedAt: 1_200, error: 'boom' });
        await storage().updateRun('r1', {});
        expect(await storage().getRun('r1')).toEqual(aRun('r1', { status: 'failed', startedAt: 1_100, endedAt: 1_200, error: 'boom' }));
        await storage().updateRun('r1', { error: null });
        expect((await storage().getRun('r1'))?.error).toBeNull();
      });

      it('reports an update of an unknown run', async () => {
        await expect(storage().updateRun('missing', { status: 'running' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage().updateRun('missing', {})).rejects.toBeInstanceOf(NotFoundError);
      });

      it('finds runs by id prefix, newest first, at most 10, case-sensitively', async () => {
        for (let i = 0; i < 12; i++) await storage().createRun(aRun(`abc${i}`, { createdAt: 1_000 + i }));
        await storage().createRun(aRun('abd', { createdAt: 5_000 }));
        await storage().createRun(aRun('ABC', { createdAt: 5_000 }));
        const found = await storage().findRunsByPrefix('abc');
        expect(found.map((r) => r.id)).toEqual(['abc11', 'abc10', 'abc9', 'abc8', 'abc7', 'abc6', 'abc5', 'abc4', 'abc3', 'abc2']);
        expect((await storage().findRunsByPrefix('abd')).map((r) => r.id)).toEqual(['abd']);
        expect(await storage().findRunsByPrefix('zzz')).toEqual([]);
      });

      it('treats LIKE wildcards in a prefix literally', async () => {
        await storage().createRun(aRun('a_b', { createdAt: 1 }));
        await storage().createRun(aRun('axb', { createdAt: 2 }));
        await storage().createRun(aRun('a%c', { createdAt: 3 }));
        await storage().createRun(aRun('a\\d', { createdAt: 4 }));
        expect((await storage().findRunsByPrefix('a_')).map((r) => r.id)).toEqual(['a_b']);
        expect((await storage().findRunsByPrefix('a%')).map((r) => r.id)).toEqual(['a%c']);
        expect((await storage().findRunsByPrefix('a\\')).map((r) => r.id)).toEqual(['a\\d']);
      });

      it('lists runs newest first by creation time, then id', async () => {
        await storage().createRun(aRun('b', { createdAt: 2 }));
        await storage().createRun(aRun('a', { createdAt: 2 }));
        await storage().createRun(aRun('c', { createdAt: 1 }));
        await storage().createRun(aRun('d', { createdAt: 3 }));
        expect((await storage().listRuns()).map((r) => r.id)).toEqual(['d', 'b', 'a', 'c']);
      });

      it('pages and filters runs by status', async () => {
        for (let i = 0; i < 5; i++) {
          await storage().createRun(aRun(`r${i}`, { createdAt: i, status: i % 2 === 0 ? 'success' : 'failed' }));
        }
        const ids = async (options: Parameters<Storage['listRuns']>[0]) => (await storage().listRuns(options)).map((r) => r.id);
        expect(await ids({ limit: 2 })).toEqual(['r4', 'r3']);
        expect(await ids({ limit: 2, offset: 2 })).toEqual(['r2', 'r1']);
        expect(await ids({ offset: 3 })).toEqual(['r1', 'r0']);
        expect(await ids({ limit: 0 })).toEqual([]);
        expect(await ids({ status: 'success' })).toEqual(['r4', 'r2', 'r0']);
        expect(await ids({ status: 'success', limit: 1, offset: 1 })).toEqual(['r2']);
        expect(await ids({ status: 'canceled' })).toEqual([]);
      });

      it('rejects invalid paging', async () => {
        await expect(storage().listRuns({ limit: -1 })).rejects.toBeInstanceOf(UsageError);
        await expect(storage().listRuns({ offset: 1.5 })).rejects.toBeInstanceOf(UsageError);
      });
    });

    describe('events', () => {
      beforeEach(async () => {
        await storage().createRun(aRun('r1'));
        await storage().createRun(aRun('r2'));
      });

      it('lists a run’s events in append order with increasing ids from 1', async () => {
        await storage().appendEvents([anEvent('r1', 'one'), anEvent('r2', 'other')]);
        await storage().appendEvents([anEvent('r1', 'two'), anEvent('r1', 'three')]);
        await storage().appendEvents([]);
        const events = await storage().listEvents('r1');
        expect(events.map((e) => e.message)).toEqual(['one', 'two', 'three']);
        expect(events.map((e) => e.id)).toEqual([1, 3, 4]);
        expect((await storage().listEvents('r2')).map((e) => e.id)).toEqual([2]);
        expect(await storage().listEvents('missing')).toEqual([]);
      });

      it('returns only later events after an id, for tailing', async () => {
        await storage().appendEvents([anEvent('r1', 'one'), anEvent('r1', 'two')]);
        const [first, second] = await storage().listEvents('r1');
        expect((await storage().listEvents('r1', { afterId: first!.id! })).map((e) => e.message)).toEqual(['two']);
        expect(await storage().listEvents('r1', { afterId: second!.id! })).toEqual([]);
        await storage().appendEvents([anEvent('r1', 'three')]);
        expect((await storage().listEvents('r1', { afterId: second!.id! })).map((e) => e.message)).toEqual(['three']);
        expect(await storage().listEvents('r1', { afterId: 0 })).toHaveLength(3);
      });

      it('round-trips every field, including data', async () => {
        const event = anEvent('r1', 'materialized', {
          type: 'materialization',
          level: 'warn',
          assetKey: 'staging/orders',
          partition: '2024-01-01',
          timestamp: 1_700_000_000_123,
          data: { rows: 3, nested: { list: [1, 'two', null, true] }, text: 'ünïcode ✓ "quoted"' },
        });
        await storage().appendEvents([event, anEvent('r1', 'no data')]);
        const [read, plain] = await storage().listEvents('r1');
        expect(read).toEqual({ ...event, id: read!.id });
        expect(plain!.data).toBeNull();
      });

      it('refuses events of an unknown run and writes none of the batch', async () => {
        const error = await storage()
          .appendEvents([anEvent('r1', 'ok'), anEvent('ghost', 'bad')])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'unknown_run', runId: 'ghost' });
        expect(await storage().listEvents('r1')).toEqual([]);
      });
    });

    storageResultsContract(storage);
    storageStalenessContract(storage);
    storageBackfillsContract(storage);
    storageQueueContract(storage);
    storageColumnLineageContract(storage);

    describe('lineage', () => {
      const edges = [
        { upstream: 'raw/orders', downstream: 'staging/orders', via: 'data' },
        { upstream: 'staging/orders', downstream: 'marts/sales', via: 'data' },
        { upstream: 'raw/customers', downstream: 'marts/sales', via: 'check' },
      ] as const;

      it('records edges of a version and reads them back in order', async () => {
        expect(await storage().latestDefinitionVersion()).toBeUndefined();
        await storage().recordLineage('v1', edges);
        expect(await storage().lineage('v1')).toEqual(edges);
        expect(await storage().lineage('v2')).toEqual([]);
        expect(await storage().latestDefinitionVersion()).toBe('v1');
      });

      it('leaves a recorded version as is and drops duplicate edges', async () => {
        await storage().recordLineage('v1', [...edges, edges[0]!]);
        await storage().recordLineage('v1', [{ upstream: 'x/a', downstream: 'x/b' }]);
        expect(await storage().lineage('v1')).toEqual(edges);
      });

      it('reads an edge recorded without its kind as a data edge', async () => {
        await storage().recordLineage('v1', [{ upstream: 'x/a', downstream: 'x/b' }]);
        expect(await storage().lineage('v1')).toEqual([{ upstream: 'x/a', downstream: 'x/b', via: 'data' }]);
      });

      it('makes the most recently recorded version the latest, also when recorded again', async () => {
        await storage().recordLineage('v1', edges);
        await storage().recordLineage('v2', []);
        expect(await storage().latestDefinitionVersion()).toBe('v2');
        expect(await storage().lineage('v2')).toEqual([]);
        await storage().recordLineage('v1', edges);
        expect(await storage().latestDefinitionVersion()).toBe('v1');
      });
    });
  });
}
