/**
 * The part of the storage contract staleness relies on: one data sequence shared by
 * materializations and observations, observations that only take a new number when their
 * data version changes, and per-asset summaries in partition order. Used by ./storage-contract.ts.
 */

import { beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../storage/index.ts';
import { aMaterialization, aRun } from './storage-fixtures.ts';

/** Defines the staleness-store tests; `storage` gives the test's storage. */
export function storageStalenessContract(storage: () => Storage): void {
  const observe = (assetKey: string, partition: string | null, dataVersion: string, timestamp = 5_000) =>
    storage().recordObservations([{ assetKey, partition, dataVersion, timestamp, metadata: { size: dataVersion.length } }]);

  describe('staleness store', () => {
    beforeEach(async () => {
      await storage().createRun(aRun('s1'));
    });

    it('numbers materializations and observations in one increasing sequence', async () => {
      expect(await storage().currentSequence()).toBe(0);
      await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/a', null, { readSeq: 0 })] });
      const [fresh] = await observe('landing/a', '2025-01-01', 'v1');
      await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/b', null, { readSeq: 2 })] });
      const [a] = await storage().latestMaterializations(['raw/a']);
      const [b] = await storage().latestMaterializations(['raw/b']);
      expect([a?.id, fresh?.seq, b?.id]).toEqual([1, 2, 3]);
      expect(await storage().currentSequence()).toBe(3);
      expect(b?.readSeq).toBe(2);
    });

    it('gives an observation a new number only when its data version changes', async () => {
      const [first] = await observe('landing/a', '2025-01-01', 'v1', 5_000);
      expect(await observe('landing/a', '2025-01-01', 'v1', 6_000)).toEqual([]);
      const [latest] = await storage().latestObservations(['landing/a']);
      expect(latest).toEqual({ ...first, timestamp: 6_000 });
      const [changed] = await observe('landing/a', '2025-01-01', 'v2', 7_000);
      expect(changed?.seq).toBeGreaterThan(first?.seq as number);
      expect((await storage().latestObservations()).map((o) => o.dataVersion)).toEqual(['v2']);
    });

    it('summarizes each asset in partition key order, whatever order partitions were written in', async () => {
      for (const day of ['2025-01-03', '2025-01-01', '2025-01-02']) {
        await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/a', day, { codeVersion: `c-${day}`, readSeq: 1 })] });
      }
      await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/u', null, { depsVersion: 'd1' })] });
      await observe('landing/a', null, 'v1');
      const summaries = await storage().dataSummaries();
      expect(summaries.map((s) => s.key)).toEqual(['landing/a', 'raw/a', 'raw/u']);
      const a = summaries[1];
      expect(a).toMatchObject({ count: 3, first: '2025-01-01', last: '2025-01-03', minCodeVersion: 'c-2025-01-01', maxCodeVersion: 'c-2025-01-03' });
      expect([...(a?.seqs ?? [])]).toEqual([2, 3, 1]);
      // Written third, first and second; each read at sequence number 1.
      expect([...(a?.readSeqs ?? [])]).toEqual([1, 1, 1]);
      expect(summaries[2]).toMatchObject({ count: 1, first: '', last: '', minDepsVersion: 'd1', maxDepsVersion: 'd1' });
      expect([...(summaries[0]?.seqs ?? [])]).toEqual([5]);
      expect((await storage().dataSummaries(['raw/u'])).map((s) => s.key)).toEqual(['raw/u']);
      expect(await storage().dataPartitionKeys(['raw/a', 'landing/a', 'nope'])).toEqual(
        new Map([
          ['raw/a', ['2025-01-01', '2025-01-02', '2025-01-03']],
          ['landing/a', ['']],
        ]),
      );
    });

    it('keeps the latest summary per partition after a rewrite', async () => {
      await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/a', '2025-01-01')] });
      await storage().commitStep({ events: [], materializations: [aMaterialization('s1', 'raw/a', '2025-01-01', { codeVersion: 'code-2' })] });
      const [summary] = await storage().dataSummaries(['raw/a']);
      expect(summary).toMatchObject({ count: 1, minCodeVersion: 'code-2', maxCodeVersion: 'code-2' });
      expect([...(summary?.seqs ?? [])]).toEqual([2]);
    });
  });
}
