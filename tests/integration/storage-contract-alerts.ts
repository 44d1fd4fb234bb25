/**
 * The part of the storage contract alerts depend on: events grouped into one open group per
 * rule, kind and asset, each group claimed by exactly one claimer once due, and its delivery's
 * outcome recorded. Registered by the memory, SQLite and Postgres storage tests.
 */

import { describe, expect, it } from 'vitest';
import type { AlertEventBatch, Storage } from '../../storage/index.ts';
import { useStorage } from './storage-contract.ts';

/** A batch of one event of rule `alerts[0]`, kind `run_failure`, asset `marts/daily`. */
function aBatch(extra: Partial<AlertEventBatch> = {}): AlertEventBatch {
  return {
    rule: 'alerts[0]',
    kind: 'run_failure',
    assetKey: 'marts/daily',
    count: 1,
    firstAt: 1_000,
    lastAt: 1_000,
    firstPartition: '2025-01-05',
    lastPartition: '2025-01-05',
    dueAt: 61_000,
    sample: { message: 'boom', partition: '2025-01-05' },
    ...extra,
  };
}

/** Defines the alert delivery contract tests for the storage `makeStorage` creates (`second`: another connection to it). */
export function storageAlertsContract(name: string, makeStorage: () => Promise<Storage>, second?: () => Promise<Storage>): void {
  describe(`${name} storage contract: alert deliveries`, () => {
    const storage = useStorage(makeStorage);

    it('adds batches to the one open group of their rule, kind and asset', async () => {
      await storage().recordAlertEvents(aBatch());
      await storage().recordAlertEvents(
        aBatch({ count: 3, firstAt: 500, lastAt: 2_000, firstPartition: '2025-01-01', lastPartition: '2025-01-09', dueAt: 99_000, sample: { other: true } }),
      );
      await storage().recordAlertEvents(aBatch({ firstPartition: null, lastPartition: null }));
      await storage().recordAlertEvents(aBatch({ assetKey: null, firstPartition: null, lastPartition: null }));
      await storage().recordAlertEvents(aBatch({ kind: 'check_failure' }));
      const groups = await storage().listAlertDeliveries();
      expect(groups.map((g) => [g.kind, g.assetKey, g.count])).toEqual([
        ['check_failure', 'marts/daily', 1],
        ['run_failure', null, 1],
        ['run_failure', 'marts/daily', 5],
      ]);
      expect(groups[2]).toMatchObject({
        firstAt: 500,
        lastAt: 2_000,
        firstPartition: '2025-01-01',
        lastPartition: '2025-01-09',
        dueAt: 61_000,
        sample: { message: 'boom', partition: '2025-01-05' },
        status: 'pending',
        attempts: 0,
        lastError: null,
        updatedAt: null,
      });
      expect(groups[1]?.firstPartition).toBeNull();
    });

    it('claims due groups of the given rules once, then opens a new group for later events', async () => {
      await storage().recordAlertEvents(aBatch());
      await storage().recordAlertEvents(aBatch({ rule: 'other', dueAt: 1_000 }));
      expect(await storage().claimAlertDeliveries({ now: 60_999, rules: ['alerts[0]'] })).toEqual([]);
      const claimed = await storage().claimAlertDeliveries({ now: 61_000, rules: ['alerts[0]'] });
      expect(claimed.map((c) => [c.rule, c.status, c.updatedAt])).toEqual([['alerts[0]', 'sending', 61_000]]);
      expect(await storage().claimAlertDeliveries({ now: 70_000, rules: ['alerts[0]'] })).toEqual([]);
      await storage().recordAlertEvents(aBatch({ firstAt: 62_000, lastAt: 62_000, dueAt: 122_000 }));
      const open = (await storage().listAlertDeliveries()).filter((g) => g.status === 'pending' && g.rule === 'alerts[0]');
      expect(open.map((g) => g.count)).toEqual([1]);
      expect((await storage().claimAlertDeliveries({ now: 62_500, rules: ['alerts[0]'], all: true })).map((g) => g.firstAt)).toEqual([62_000]);
    });

    it('records how a delivery ended, and claims a group again whose claimer went silent', async () => {
      await storage().recordAlertEvents(aBatch());
      const [claimed] = await storage().claimAlertDeliveries({ now: 61_000, rules: ['alerts[0]'] });
      expect(await storage().claimAlertDeliveries({ now: 62_000, rules: ['alerts[0]'], staleBefore: 61_000 })).toEqual([]);
      const again = await storage().claimAlertDeliveries({ now: 400_000, rules: ['alerts[0]'], staleBefore: 100_000 });
      expect(again.map((g) => g.id)).toEqual([claimed?.id]);
      await storage().finishAlertDelivery(claimed?.id as number, { status: 'failed', attempts: 3, lastError: 'HTTP 500', at: 401_000 });
      expect(await storage().listAlertDeliveries({ limit: 1 })).toMatchObject([{ status: 'failed', attempts: 3, lastError: 'HTTP 500', updatedAt: 401_000 }]);
      expect(await storage().claimAlertDeliveries({ now: 900_000, rules: ['alerts[0]'], staleBefore: 800_000, all: true })).toEqual([]);
    });

    if (second) {
      it('gives each group to exactly one of several connections claiming at once', async () => {
        const others = await Promise.all([second(), second()]);
        try {
          const writers = [storage(), ...others];
          await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              writers[i % 3]?.recordAlertEvents(aBatch({ assetKey: `a/${i % 5}`, firstPartition: `2025-01-${String(i + 1).padStart(2, '0')}` })),
            ),
          );
          const claims = await Promise.all(writers.map((w) => w.claimAlertDeliveries({ now: 61_000, rules: ['alerts[0]'] })));
          const ids = claims.flat().map((g) => g.id);
          expect(ids).toHaveLength(5);
          expect(new Set(ids).size).toBe(5);
          expect(claims.flat().reduce((sum, g) => sum + g.count, 0)).toBe(30);
        } finally {
          for (const other of others) await other.close();
        }
      });
    }
  });
}
