/**
 * The lease part of the storage contract (see storage/lease-store.ts): atomic all-or-nothing
 * acquisition, who holds a conflicting lease, release, extension, take-over of expired leases
 * and of leases whose run is no longer running, and failing a dead run. Registered for every
 * implementation in storage-sqlite.test.ts and storage-memory.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/index.ts';
import type { LeaseKey, Storage } from '../../storage/index.ts';
import { useStorage } from './storage-contract.ts';
import { aMaterialization, anEvent, aRun, withoutId } from './storage-fixtures.ts';

const A: LeaseKey = { assetKey: 'staging/orders', partition: '2025-01-01' };
const B: LeaseKey = { assetKey: 'staging/orders', partition: '2025-01-02' };
const WHOLE: LeaseKey = { assetKey: 'marts/sales', partition: null };

/**
 * Defines the lease contract tests for the storage `makeStorage` creates; `second`, when
 * given, opens another connection to the same store (another process, as far as it knows).
 */
export function storageLeasesContract(name: string, makeStorage: () => Promise<Storage>, second?: () => Promise<Storage>): void {
  describe(`${name} lease contract`, () => {
    const storage = useStorage(makeStorage);

    async function running(...ids: string[]): Promise<void> {
      for (const id of ids) await storage().createRun(aRun(id, { status: 'running', startedAt: 1_000 }));
    }

    it('acquires a set of leases and lists them by key', async () => {
      await running('r1');
      const result = await storage().acquireLeases('r1', [WHOLE, B, A, A], { now: 10_000, expiresAt: 70_000 });
      expect(result.acquired).toBe(true);
      const expected = [
        { assetKey: 'marts/sales', partition: null, runId: 'r1', acquiredAt: 10_000, expiresAt: 70_000 },
        { assetKey: 'staging/orders', partition: '2025-01-01', runId: 'r1', acquiredAt: 10_000, expiresAt: 70_000 },
        { assetKey: 'staging/orders', partition: '2025-01-02', runId: 'r1', acquiredAt: 10_000, expiresAt: 70_000 },
      ];
      expect(await storage().listLeases()).toEqual(expected);
      expect(await storage().listLeases({ runId: 'r1' })).toEqual(expected);
      expect(await storage().listLeases({ runId: 'other' })).toEqual([]);
    });

    it('is all or nothing, and names the run holding a conflicting lease', async () => {
      await running('r1', 'r2');
      await storage().acquireLeases('r1', [B], { now: 10_000, expiresAt: 70_000 });
      const result = await storage().acquireLeases('r2', [A, B, WHOLE], { now: 20_000, expiresAt: 80_000 });
      expect(result).toEqual({ acquired: false, conflicts: [{ ...B, runId: 'r1', acquiredAt: 10_000, expiresAt: 70_000 }] });
      // Nothing of the refused request was written: A and WHOLE are still free.
      expect((await storage().listLeases()).map((l) => [l.partition, l.runId])).toEqual([['2025-01-02', 'r1']]);
      expect((await storage().acquireLeases('r2', [A, WHOLE], { now: 20_000, expiresAt: 80_000 })).acquired).toBe(true);
    });

    it("renews a run's own leases, keeping when they were first acquired", async () => {
      await running('r1');
      await storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 70_000 });
      const again = await storage().acquireLeases('r1', [A, B], { now: 30_000, expiresAt: 90_000 });
      expect(again).toEqual({
        acquired: true,
        leases: [
          { ...A, runId: 'r1', acquiredAt: 10_000, expiresAt: 90_000 },
          { ...B, runId: 'r1', acquiredAt: 30_000, expiresAt: 90_000 },
        ],
      });
    });

    it('lets another run take over an expired lease', async () => {
      await running('r1', 'r2');
      await storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 20_000 });
      expect((await storage().acquireLeases('r2', [A], { now: 19_999, expiresAt: 80_000 })).acquired).toBe(false);
      const taken = await storage().acquireLeases('r2', [A], { now: 20_000, expiresAt: 80_000 });
      expect(taken).toEqual({ acquired: true, leases: [{ ...A, runId: 'r2', acquiredAt: 20_000, expiresAt: 80_000 }] });
      expect(await storage().listLeases({ runId: 'r1' })).toEqual([]);
    });

    it('lets another run take over the lease of a run that is no longer running', async () => {
      await running('r1', 'r2');
      await storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 999_000 });
      await storage().updateRun('r1', { status: 'failed', endedAt: 11_000 });
      expect((await storage().acquireLeases('r2', [A], { now: 12_000, expiresAt: 80_000 })).acquired).toBe(true);
    });

    it("releases some or all of a run's leases, never another run's", async () => {
      await running('r1', 'r2');
      await storage().acquireLeases('r1', [A, B], { now: 10_000, expiresAt: 70_000 });
      await storage().acquireLeases('r2', [WHOLE], { now: 10_000, expiresAt: 70_000 });
      expect(await storage().releaseLeases('r2', [A])).toBe(0);
      expect(await storage().releaseLeases('r1', [A, A])).toBe(1);
      expect((await storage().listLeases()).map((l) => l.partition)).toEqual([null, '2025-01-02']);
      expect(await storage().releaseLeases('r1')).toBe(1);
      expect(await storage().releaseLeases('r1')).toBe(0);
      expect((await storage().listLeases()).map((l) => l.runId)).toEqual(['r2']);
    });

    it('extends every lease of a run', async () => {
      await running('r1', 'r2');
      await storage().acquireLeases('r1', [A, B], { now: 10_000, expiresAt: 20_000 });
      await storage().acquireLeases('r2', [WHOLE], { now: 10_000, expiresAt: 20_000 });
      expect(await storage().extendLeases('r1', 50_000)).toBe(2);
      expect((await storage().listLeases()).map((l) => [l.runId, l.expiresAt])).toEqual([
        ['r2', 20_000],
        ['r1', 50_000],
        ['r1', 50_000],
      ]);
      // Extended, so no longer expired at 30 s.
      expect((await storage().acquireLeases('r2', [A], { now: 30_000, expiresAt: 90_000 })).acquired).toBe(false);
      expect(await storage().extendLeases('nobody', 50_000)).toBe(0);
    });

    it('refuses leases for a run that does not exist', async () => {
      const error = await storage()
        .acquireLeases('ghost', [A], { now: 1, expiresAt: 2 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'unknown_run', runId: 'ghost' });
      expect(await storage().listLeases()).toEqual([]);
    });

    it('appends events with the leases it takes, in the same transaction, and none when refused', async () => {
      await running('r1', 'r2');
      const start = anEvent('r1', 'started staging/orders', { type: 'step_start', assetKey: 'staging/orders' });
      expect((await storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 70_000, events: [start] })).acquired).toBe(true);
      expect((await storage().listEvents('r1')).map(withoutId)).toEqual([start]);
      const refused = await storage().acquireLeases('r2', [A], { now: 20_000, expiresAt: 80_000, events: [anEvent('r2', 'started')] });
      expect(refused.acquired).toBe(false);
      expect(await storage().listEvents('r2')).toEqual([]);
      // An event of an unknown run: neither the leases nor the events are written.
      const error = await storage()
        .acquireLeases('r2', [B], { now: 20_000, expiresAt: 80_000, events: [anEvent('r2', 'fine'), anEvent('ghost', 'unknown')] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unknown_run', runId: 'ghost' });
      expect(await storage().listLeases({ runId: 'r2' })).toEqual([]);
      expect(await storage().listEvents('r2')).toEqual([]);
    });

    it("gives back a step's leases in the transaction that records it, and keeps them when it is refused", async () => {
      await running('r1');
      await storage().acquireLeases('r1', [A, B], { now: 10_000, expiresAt: 70_000 });
      const done = anEvent('r1', 'finished', { type: 'step_success' });
      await storage().commitStep({
        events: [done],
        materializations: [aMaterialization('r1', 'staging/orders', '2025-01-01')],
        releaseLeases: { runId: 'r1', keys: [A] },
      });
      expect((await storage().listLeases()).map((l) => l.partition)).toEqual(['2025-01-02']);
      const error = await storage()
        .commitStep({ events: [anEvent('ghost', 'lost')], releaseLeases: { runId: 'r1', keys: [B] } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unknown_run' });
      expect((await storage().listLeases()).map((l) => l.partition)).toEqual(['2025-01-02']);
    });

    it('writes issued together succeed or fail one by one', async () => {
      await running('r1');
      const results = await Promise.allSettled([
        storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 70_000, events: [anEvent('r1', 'first')] }),
        storage().appendEvents([anEvent('ghost', 'unknown run')]),
        storage().acquireLeases('ghost', [B], { now: 10_000, expiresAt: 70_000 }),
        storage().commitStep({ events: [anEvent('r1', 'second')], releaseLeases: { runId: 'r1', keys: [A] } }),
        storage().appendEvents([anEvent('r1', 'third')]),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
      expect((await storage().listEvents('r1')).map((e) => e.message)).toEqual(['first', 'second', 'third']);
      expect(await storage().listLeases()).toEqual([]);
    });

    it('records heartbeats on the run', async () => {
      await running('r1');
      expect((await storage().getRun('r1'))?.heartbeatAt).toBeUndefined();
      await storage().updateRun('r1', { heartbeatAt: 5_000 });
      expect(await storage().getRun('r1')).toMatchObject({ heartbeatAt: 5_000, status: 'running' });
      await storage().createRun(aRun('r2', { status: 'running', pid: 4242, heartbeatAt: 1_500 }));
      expect(await storage().getRun('r2')).toMatchObject({ pid: 4242, heartbeatAt: 1_500 });
    });

    it('fails a dead run: status, error, event and leases in one go', async () => {
      await running('r1', 'r2');
      await storage().updateRun('r1', { heartbeatAt: 5_000 });
      await storage().acquireLeases('r1', [A, B], { now: 5_000, expiresAt: 65_000 });
      await storage().acquireLeases('r2', [WHOLE], { now: 5_000, expiresAt: 65_000 });
      const event = anEvent('r1', 'process died', { type: 'run_failure', level: 'error', timestamp: 70_000 });
      const failure = { lastSeenBefore: 5_000, endedAt: 70_000, error: 'process died: no heartbeat', event };
      expect(await storage().failDeadRun('r1', failure)).toEqual({ releasedLeases: 2 });
      expect(await storage().getRun('r1')).toMatchObject({ status: 'failed', endedAt: 70_000, error: 'process died: no heartbeat' });
      expect((await storage().listEvents('r1')).map((e) => [e.type, e.message])).toEqual([['run_failure', 'process died']]);
      expect((await storage().listLeases()).map((l) => l.runId)).toEqual(['r2']);
      // Only once: the run is no longer running.
      expect(await storage().failDeadRun('r1', failure)).toBeUndefined();
      expect(await storage().listEvents('r1')).toHaveLength(1);
    });

    it('creates the retry of a dead run with its failure, once', async () => {
      await storage().createRun(aRun('r1', { status: 'running', startedAt: 1_000, request: { kind: 'materialize', select: 'a', now: 1 } }));
      const event = anEvent('r1', 'process died', { type: 'run_failure', level: 'error', timestamp: 70_000 });
      const retry = aRun('r1-retry', {
        status: 'queued',
        createdAt: 70_000,
        tags: { resumes: 'r1' },
        request: { kind: 'materialize', select: 'a', now: 1, attempt: 2 },
      });
      const failure = { lastSeenBefore: 5_000, endedAt: 70_000, error: 'process died', event, retry };
      const [first, second] = await Promise.all([storage().failDeadRun('r1', failure), storage().failDeadRun('r1', failure)]);
      expect([first, second].filter((o) => o !== undefined)).toEqual([{ releasedLeases: 0 }]);
      expect(await storage().getRun('r1-retry')).toMatchObject({ status: 'queued', tags: { resumes: 'r1' }, request: { attempt: 2 } });
      expect((await storage().listRuns()).map((r) => r.id).sort()).toEqual(['r1', 'r1-retry']);
      // A retry whose id is taken rolls the failure back with it.
      await storage().createRun(aRun('r2', { status: 'running', startedAt: 1_000 }));
      await expect(storage().failDeadRun('r2', { ...failure, event: anEvent('r2', 'dead', { type: 'run_failure' }) })).rejects.toThrow();
      expect(await storage().getRun('r2')).toMatchObject({ status: 'running', error: null });
      expect(await storage().listEvents('r2')).toEqual([]);
    });

    it('leaves a run seen since the cut-off (or never running) alone', async () => {
      await running('r1');
      await storage().updateRun('r1', { heartbeatAt: 5_001 });
      await storage().acquireLeases('r1', [A], { now: 5_000, expiresAt: 65_000 });
      const failure = { lastSeenBefore: 5_000, endedAt: 70_000, error: 'dead', event: anEvent('r1', 'dead', { type: 'run_failure' }) };
      expect(await storage().failDeadRun('r1', failure)).toBeUndefined();
      expect(await storage().getRun('r1')).toMatchObject({ status: 'running', error: null });
      expect(await storage().listLeases()).toHaveLength(1);
      expect(await storage().listEvents('r1')).toEqual([]);
      // Without a heartbeat, the start time counts.
      await storage().createRun(aRun('r2', { status: 'running', startedAt: 4_000 }));
      expect(await storage().failDeadRun('r2', { ...failure, event: anEvent('r2', 'dead', { type: 'run_failure' }) })).toEqual({ releasedLeases: 0 });
      await storage().createRun(aRun('q', { status: 'queued' }));
      expect(await storage().failDeadRun('q', { ...failure, event: anEvent('q', 'dead') })).toBeUndefined();
      expect(await storage().failDeadRun('missing', { ...failure, event: anEvent('missing', 'dead') })).toBeUndefined();
    });

    if (second) {
      it('holds across connections: a second connection sees and respects the leases', async () => {
        const other = await second();
        try {
          await running('r1', 'r2');
          await storage().acquireLeases('r1', [A], { now: 10_000, expiresAt: 70_000 });
          const result = await other.acquireLeases('r2', [A, B], { now: 10_000, expiresAt: 70_000 });
          expect(result).toMatchObject({ acquired: false, conflicts: [{ runId: 'r1' }] });
          await storage().releaseLeases('r1');
          expect((await other.acquireLeases('r2', [A, B], { now: 10_000, expiresAt: 70_000 })).acquired).toBe(true);
          expect((await storage().listLeases()).map((l) => l.runId)).toEqual(['r2', 'r2']);
        } finally {
          if (other !== storage()) await other.close();
        }
      });
    }
  });
}
