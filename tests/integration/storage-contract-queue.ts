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
  });
}
