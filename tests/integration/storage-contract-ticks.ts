/**
 * The part of the storage contract the daemon depends on: daemon ticks with their decisions,
 * and daemon cursors written with a tick update. Registered by storage-sqlite.test.ts and
 * storage-memory.test.ts for each implementation.
 */

import { describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../core/model/errors.ts';
import type { NewDaemonTick, Storage, TickDecision } from '../../storage/index.ts';
import { useStorage } from './storage-contract.ts';

/** A running tick at `timestamp` with no decisions yet. */
function aTick(timestamp: number, extra: Partial<NewDaemonTick> = {}): NewDaemonTick {
  return { timestamp, status: 'running', decisions: [], runIds: [], error: null, endedAt: null, ...extra };
}

const requested: TickDecision = {
  source: 'automation',
  name: 'features/daily',
  action: 'requested',
  reason: 'upstream marts/revenue@2025-03-01 updated',
  targets: [{ key: 'features/daily', partitions: ['2025-03-01', '2025-03-02'], count: 2 }],
  runId: 'run-1',
};
const skipped: TickDecision = {
  source: 'schedule',
  name: 'nightly',
  action: 'skipped',
  reason: 'tick missed while the daemon was down: only the latest runs',
  targets: [{ key: 'marts/x', partitions: null, count: 1 }],
  tickTime: 1_700_000_000_000,
};

/** Defines the daemon tick contract tests for the storage `makeStorage` creates. */
export function storageTicksContract(name: string, makeStorage: () => Promise<Storage>): void {
  describe(`${name} storage contract: daemon ticks`, () => {
    const storage = useStorage(makeStorage);

    it('creates ticks with increasing ids and reads them back whole', async () => {
      const first = await storage().createDaemonTick(aTick(1_000));
      const second = await storage().createDaemonTick(aTick(2_000, { decisions: [requested, skipped], runIds: ['run-1'], status: 'success', endedAt: 2_500 }));
      expect(second).toBeGreaterThan(first);
      expect(await storage().getDaemonTick(first)).toEqual({ id: first, ...aTick(1_000) });
      expect(await storage().getDaemonTick(second)).toEqual({
        id: second,
        ...aTick(2_000, { decisions: [requested, skipped], runIds: ['run-1'], status: 'success', endedAt: 2_500 }),
      });
      expect(await storage().getDaemonTick(second + 100)).toBeUndefined();
    });

    it('updates only the given fields', async () => {
      const id = await storage().createDaemonTick(aTick(1_000));
      await storage().updateDaemonTick(id, { decisions: [requested], runIds: ['run-1'] });
      await storage().updateDaemonTick(id, { status: 'failed', error: 'boom', endedAt: 1_200 });
      await storage().updateDaemonTick(id, {});
      expect(await storage().getDaemonTick(id)).toEqual({
        id,
        ...aTick(1_000, { decisions: [requested], runIds: ['run-1'], status: 'failed', error: 'boom', endedAt: 1_200 }),
      });
    });

    it('lists ticks newest first and pages', async () => {
      expect(await storage().listDaemonTicks()).toEqual([]);
      const ids = [];
      for (const t of [5, 1, 3]) ids.push(await storage().createDaemonTick(aTick(t)));
      expect((await storage().listDaemonTicks()).map((t) => t.id)).toEqual([...ids].reverse());
      expect((await storage().listDaemonTicks({ limit: 2 })).map((t) => t.timestamp)).toEqual([3, 1]);
      expect((await storage().listDaemonTicks({ limit: 2, offset: 2 })).map((t) => t.timestamp)).toEqual([5]);
      await expect(storage().listDaemonTicks({ limit: -1 })).rejects.toBeInstanceOf(UsageError);
    });

    it('writes cursors with a tick update and overwrites them', async () => {
      expect(await storage().daemonCursors()).toEqual({});
      const id = await storage().createDaemonTick(aTick(1_000));
      await storage().updateDaemonTick(id, { status: 'success' }, { 'schedule:b': '100', 'schedule:a': '50' });
      await storage().updateDaemonTick(id, {}, { 'schedule:b': '200' });
      expect(await storage().daemonCursors()).toEqual({ 'schedule:a': '50', 'schedule:b': '200' });
      expect(Object.keys(await storage().daemonCursors())).toEqual(['schedule:a', 'schedule:b']);
    });

    it('refuses to update an unknown tick and then writes no cursor', async () => {
      await expect(storage().updateDaemonTick(42, { status: 'success' }, { 'schedule:x': '1' })).rejects.toBeInstanceOf(NotFoundError);
      expect(await storage().daemonCursors()).toEqual({});
    });
  });
}
