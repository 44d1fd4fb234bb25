/**
 * The part of the storage contract `assets worker` depends on: queued runs with their request,
 * claimed oldest first, each once. Used by ./storage-contract.ts.
 */

import { describe, expect, it } from 'vitest';
import type { Storage } from '../../storage/index.ts';
import { aRun } from './storage-fixtures.ts';

const request = { kind: 'materialize', select: 'marts/*', partition: '2025-01-01', options: { fullRefresh: false, force: ['a', 'ü'] } };

/** Defines the queued-run tests; `storage` gives the test's storage. */
export function storageQueueContract(storage: () => Storage): void {
  describe('queued runs', () => {
    it('keeps a run request as it was written', async () => {
      await storage().createRun(aRun('q1', { request }));
      expect((await storage().getRun('q1'))?.request).toEqual(request);
      await storage().createRun(aRun('plain'));
      expect((await storage().getRun('plain'))?.request).toBeUndefined();
    });

    it('claims the oldest queued run with a request (by created time, then id), marking it running with the claim', async () => {
      await storage().createRun(aRun('late', { createdAt: 3_000, request }));
      await storage().createRun(aRun('b-early', { createdAt: 1_000, request }));
      await storage().createRun(aRun('a-early', { createdAt: 1_000, request }));
      await storage().createRun(aRun('no-request', { createdAt: 500 }));
      await storage().createRun(aRun('done', { createdAt: 100, status: 'success', request }));
      const claimed = await storage().claimQueuedRun({ now: 9_000, pid: 4242 });
      expect(claimed).toMatchObject({ id: 'a-early', status: 'running', startedAt: 9_000, heartbeatAt: 9_000, pid: 4242, request });
      expect(await storage().getRun('a-early')).toEqual(claimed);
      expect((await storage().claimQueuedRun({ now: 9_001, pid: 1 }))?.id).toBe('b-early');
      expect((await storage().claimQueuedRun({ now: 9_002, pid: 1 }))?.id).toBe('late');
      expect(await storage().claimQueuedRun({ now: 9_003, pid: 1 })).toBeUndefined();
      expect((await storage().getRun('no-request'))?.status).toBe('queued');
      expect((await storage().getRun('done'))?.status).toBe('success');
    });

    it('never gives one run to two claims made at once', async () => {
      for (let i = 0; i < 5; i++) await storage().createRun(aRun(`q${i}`, { createdAt: 1_000 + i, request }));
      const claims = await Promise.all(Array.from({ length: 8 }, (_, pid) => storage().claimQueuedRun({ now: 2_000, pid })));
      const ids = claims.flatMap((run) => (run === undefined ? [] : [run.id]));
      expect(ids.sort()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
      expect(await storage().listRuns({ status: 'queued' })).toEqual([]);
    });

    it('cancels a queued run no claim took, and nothing else', async () => {
      await storage().createRun(aRun('waiting', { createdAt: 2_000, request }));
      await storage().createRun(aRun('taken', { createdAt: 1_000, request }));
      await storage().createRun(aRun('done', { status: 'success', request }));
      expect((await storage().claimQueuedRun({ now: 3_000, pid: 1 }))?.id).toBe('taken');
      expect(await storage().cancelQueuedRun('waiting', 4_000)).toBe(true);
      expect(await storage().getRun('waiting')).toMatchObject({ status: 'canceled', endedAt: 4_000 });
      expect(await storage().cancelQueuedRun('waiting', 5_000)).toBe(false);
      expect(await storage().cancelQueuedRun('taken', 5_000)).toBe(false);
      expect(await storage().cancelQueuedRun('done', 5_000)).toBe(false);
      expect(await storage().cancelQueuedRun('missing', 5_000)).toBe(false);
      expect((await storage().getRun('taken'))?.status).toBe('running');
      expect(await storage().claimQueuedRun({ now: 6_000, pid: 1 })).toBeUndefined();
    });

    describe('pools', () => {
      const limits: Record<string, number> = { warehouse: 1, api: 2 };
      const poolLimit = (pool: string) => limits[pool] ?? Infinity;
      const queue = async (id: string, createdAt: number, pools: string[]) => storage().createRun(aRun(id, { createdAt, request, pools }));
      const claim = async (extra: { pools?: string[] } = {}) => (await storage().claimQueuedRun({ now: 5_000, pid: 7, poolLimit, ...extra }))?.id;

      it('keeps the pools of a run as they were written', async () => {
        await queue('q1', 1_000, ['api', 'warehouse']);
        expect((await storage().getRun('q1'))?.pools).toEqual(['api', 'warehouse']);
        expect(await claim()).toBe('q1');
        expect((await storage().getRun('q1'))?.pools).toEqual(['api', 'warehouse']);
      });

      it('claims a run only while each of its pools has fewer running runs than its limit, skipping a run whose pool is full', async () => {
        await queue('a', 1_000, ['warehouse']);
        await queue('b', 2_000, ['warehouse']);
        await queue('c', 3_000, ['api']);
        await queue('d', 4_000, []);
        // Running runs of another claimer count too; a running run without pools counts for none.
        await storage().createRun(aRun('elsewhere', { status: 'running', startedAt: 1, pools: ['api'] }));
        await storage().createRun(aRun('in-process', { status: 'running', startedAt: 1 }));
        expect(await claim()).toBe('a');
        expect(await claim()).toBe('c');
        expect(await claim()).toBe('d');
        expect(await claim()).toBeUndefined();
        expect((await storage().getRun('b'))?.status).toBe('queued');
        await storage().updateRun('a', { status: 'success', endedAt: 6_000 });
        expect(await claim()).toBe('b');
      });

      it('lets no later run take a slot of a pool an older waiting run needs; runs of other pools go ahead', async () => {
        await storage().createRun(aRun('busy', { status: 'running', startedAt: 1, pools: ['warehouse'] }));
        await queue('old', 1_000, ['api', 'warehouse']);
        await queue('same-pool', 2_000, ['api']);
        await queue('other', 3_000, ['files']);
        expect(await claim()).toBe('other');
        expect(await claim()).toBeUndefined();
        await storage().updateRun('busy', { status: 'success', endedAt: 6_000 });
        expect(await claim()).toBe('old');
        expect(await claim()).toBe('same-pool');
      });

      it('with a pool list, claims only runs all of whose pools are listed (a run with none: any claimer)', async () => {
        await queue('both', 1_000, ['api', 'warehouse']);
        await queue('wh', 2_000, ['warehouse']);
        await queue('none', 3_000, []);
        await queue('api', 4_000, ['api']);
        expect(await claim({ pools: ['api'] })).toBe('none');
        expect(await claim({ pools: ['api'] })).toBe('api');
        expect(await claim({ pools: ['api'] })).toBeUndefined();
        expect(await claim({ pools: ['warehouse', 'api'] })).toBe('both');
        expect(await claim({ pools: ['warehouse'] })).toBeUndefined();
      });

      it('never lets claims made at once exceed a pool limit of 2', async () => {
        for (let i = 0; i < 6; i++) await queue(`p${i}`, 1_000 + i, ['api']);
        const claims = await Promise.all(Array.from({ length: 8 }, () => claim()));
        expect(claims.filter((id) => id !== undefined).sort()).toEqual(['p0', 'p1']);
        expect(await storage().listRuns({ status: 'running' })).toHaveLength(2);
      });
    });
  });
}
