/**
 * The freshness part of the storage contract (see storage/freshness-episode-store.ts): at most
 * one open miss episode per asset, even from a second connection; ending episodes; the
 * `freshness_miss` event kept whole with its episode. Registered for every implementation in
 * storage-memory, storage-sqlite and storage-postgres tests.
 */

import { describe, expect, it } from 'vitest';
import type { EventRecord, Storage } from '../../storage/index.ts';
import { useStorage } from './storage-contract.ts';
import { anEvent } from './storage-fixtures.ts';

/** A `freshness_miss` event of `assetKey` raised at `timestamp` by daemon tick `tick`. */
function aMiss(assetKey: string, timestamp: number, tick = 1): EventRecord {
  return anEvent(`daemon-tick-${tick}`, `${assetKey} is overdue`, {
    type: 'freshness_miss',
    level: 'warn',
    assetKey,
    partition: '2025-03-01',
    timestamp,
    data: { maxLagMs: 93_600_000, lagMs: 100_000_000, lastMaterializedAt: 1_000 },
  });
}

/**
 * Defines the freshness contract tests for the storage `makeStorage` creates; `second`, when
 * given, opens another connection to the same store.
 */
export function storageFreshnessContract(name: string, makeStorage: () => Promise<Storage>, second?: () => Promise<Storage>): void {
  describe(`${name} freshness contract`, () => {
    const storage = useStorage(makeStorage);

    it('opens one episode per asset with its event, and none while one is open', async () => {
      const opened = await storage().openFreshnessEpisode(aMiss('marts/sales', 5_000));
      expect(opened).toEqual({ id: 1, assetKey: 'marts/sales', startedAt: 5_000, endedAt: null, event: { ...aMiss('marts/sales', 5_000), id: 1 } });
      expect(await storage().openFreshnessEpisode(aMiss('marts/sales', 6_000, 2))).toBeUndefined();
      // Ids increase (a refused open may use one up, as Postgres sequences do).
      expect((await storage().openFreshnessEpisode(aMiss('raw/orders', 6_000, 2)))?.id).toBeGreaterThan(1);
      expect((await storage().openFreshnessEpisodes()).map((e) => [e.assetKey, e.startedAt])).toEqual([
        ['marts/sales', 5_000],
        ['raw/orders', 6_000],
      ]);
      expect((await storage().openFreshnessEpisodes(['raw/orders'])).map((e) => e.assetKey)).toEqual(['raw/orders']);
      expect(await storage().openFreshnessEpisodes([])).toEqual([]);
    });

    it('ends episodes, after which the next miss opens a new one', async () => {
      await storage().openFreshnessEpisode(aMiss('marts/sales', 5_000));
      expect(await storage().endFreshnessEpisodes(['marts/sales', 'raw/orders'], 7_000)).toEqual(['marts/sales']);
      expect(await storage().endFreshnessEpisodes(['marts/sales'], 8_000)).toEqual([]);
      expect(await storage().openFreshnessEpisodes()).toEqual([]);
      const again = await storage().openFreshnessEpisode(aMiss('marts/sales', 9_000, 3));
      expect(again?.event.runId).toBe('daemon-tick-3');
      const history = await storage().freshnessEpisodes('marts/sales');
      expect(history.map((e) => [e.startedAt, e.endedAt])).toEqual([
        [9_000, null],
        [5_000, 7_000],
      ]);
      expect((await storage().freshnessEpisodes('marts/sales', { limit: 1, offset: 1 })).map((e) => e.startedAt)).toEqual([5_000]);
      expect(await storage().freshnessEpisodes('raw/orders')).toEqual([]);
    });

    // Only storages a second connection can open (SQLite, Postgres); the in-memory one has a single connection.
    if (second !== undefined)
      it('keeps one open episode when a second connection opens the same asset', async () => {
        await storage().openFreshnessEpisode(aMiss('marts/sales', 5_000));
        const other = await second();
        try {
          expect(await other.openFreshnessEpisode(aMiss('marts/sales', 6_000, 2))).toBeUndefined();
          expect((await other.openFreshnessEpisodes()).map((e) => e.startedAt)).toEqual([5_000]);
        } finally {
          await other.close();
        }
      });
  });
}
