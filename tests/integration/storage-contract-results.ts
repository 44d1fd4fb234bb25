/**
 * The part of the storage contract about what steps write: `commitStep`, materializations
 * (history and latest per asset partition) and check results. Used by ./storage-contract.ts.
 */

import { beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/index.ts';
import type { MaterializationRecord, Storage } from '../../storage/index.ts';
import { aCheckResult, aMaterialization, anEvent, aRun, withoutId } from './storage-fixtures.ts';

/** Defines the commit, materialization and check-result tests; `storage` gives the test's storage. */
export function storageResultsContract(storage: () => Storage): void {
  const brief = (m: MaterializationRecord) => `${m.assetKey}@${m.partition ?? '-'}:${m.dataVersion}`;

  describe('step results', () => {
    beforeEach(async () => {
      await storage().createRun(aRun('m1', { createdAt: 10 }));
      await storage().createRun(aRun('m2', { createdAt: 11 }));
    });

    describe('commitStep', () => {
      it('writes events, materializations and check results together', async () => {
        const materialization = aMaterialization('m1', 'staging/orders', null);
        const check = aCheckResult('m1', 'staging/orders', 'id_not_null');
        await storage().commitStep({
          events: [anEvent('m1', 'materialized', { type: 'materialization' }), anEvent('m1', 'done', { type: 'step_success' })],
          materializations: [materialization],
          checkResults: [check],
        });
        expect((await storage().listEvents('m1')).map((e) => e.message)).toEqual(['materialized', 'done']);
        const [latest] = await storage().latestMaterializations();
        expect(withoutId(latest!)).toEqual(materialization);
        expect(latest!.id).toBeGreaterThan(0);
        expect((await storage().materializationHistory('staging/orders'))[0]).toEqual(latest);
        const [checkRead] = await storage().latestCheckResults();
        expect(withoutId(checkRead!)).toEqual(check);
        expect((await storage().checkHistory('staging/orders'))[0]).toEqual(checkRead);
      });

      it('accepts a commit with events only', async () => {
        await storage().commitStep({ events: [anEvent('m1', 'skipped', { type: 'step_skipped' })] });
        expect(await storage().listEvents('m1')).toHaveLength(1);
        expect(await storage().latestMaterializations()).toEqual([]);
      });

      it('writes nothing of a commit that names an unknown run', async () => {
        await storage().commitStep({ events: [anEvent('m1', 'before')], materializations: [aMaterialization('m1', 'a/x', null)] });
        const error = await storage()
          .commitStep({
            events: [anEvent('m1', 'lost')],
            materializations: [aMaterialization('m1', 'a/x', null, { dataVersion: 'new' }), aMaterialization('ghost', 'a/y', null)],
            checkResults: [aCheckResult('m1', 'a/x', 'c')],
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'unknown_run', runId: 'ghost' });
        expect((await storage().listEvents('m1')).map((e) => e.message)).toEqual(['before']);
        expect((await storage().latestMaterializations()).map(brief)).toEqual(['a/x@-:data-a/x-all']);
        expect(await storage().materializationHistory('a/x')).toHaveLength(1);
        expect(await storage().latestCheckResults()).toEqual([]);
      });

      it('refuses a check result of an unknown run but accepts one without a run', async () => {
        await expect(storage().commitStep({ events: [], checkResults: [aCheckResult('ghost', 'a/x', 'c')] })).rejects.toMatchObject({
          code: 'unknown_run',
        });
        await storage().commitStep({ events: [], checkResults: [aCheckResult(null, 'a/x', 'c')] });
        expect((await storage().latestCheckResults()).map((c) => c.runId)).toEqual([null]);
      });
    });

    describe('materializations', () => {
      /** Commits one materialization per call, as the executor does per step. */
      const materialize = async (runId: string, key: string, partition: string | null, dataVersion: string, timestamp = 3_000) =>
        storage().commitStep({ events: [], materializations: [aMaterialization(runId, key, partition, { dataVersion, timestamp })] });

      it('keeps the latest per asset and partition, unpartitioned as null', async () => {
        await materialize('m1', 'a/x', null, 'x1');
        await materialize('m1', 'a/y', '2024-01-01', 'y1');
        await materialize('m1', 'a/y', '2024-01-02', 'y2');
        await materialize('m2', 'a/x', null, 'x2');
        await materialize('m2', 'a/y', '2024-01-01', 'y3');
        // A later write wins even with an earlier timestamp: latest means most recently recorded.
        await materialize('m2', 'a/y', '2024-01-02', 'y4', 1);
        const latest = await storage().latestMaterializations();
        expect(latest.map(brief)).toEqual(['a/x@-:x2', 'a/y@2024-01-01:y3', 'a/y@2024-01-02:y4']);
        expect(latest.map((m) => m.runId)).toEqual(['m2', 'm2', 'm2']);
        const [newest] = await storage().materializationHistory('a/y', { partition: '2024-01-02' });
        expect(latest[2]).toEqual(newest);
      });

      it('keeps an unpartitioned and a partitioned latest of one asset apart', async () => {
        await materialize('m1', 'a/x', null, 'whole');
        await materialize('m1', 'a/x', 'p1', 'part');
        expect((await storage().latestMaterializations()).map(brief)).toEqual(['a/x@-:whole', 'a/x@p1:part']);
      });

      it('filters latest materializations by asset keys', async () => {
        await materialize('m1', 'a/x', null, 'x1');
        await materialize('m1', 'a/y', 'p1', 'y1');
        await materialize('m1', 'a/y', 'p2', 'y2');
        await materialize('m1', 'a/z', null, 'z1');
        expect((await storage().latestMaterializations(['a/z', 'a/y', 'a/missing'])).map(brief)).toEqual(['a/y@p1:y1', 'a/y@p2:y2', 'a/z@-:z1']);
        expect(await storage().latestMaterializations([])).toEqual([]);
        expect(await storage().latestMaterializations(['a/missing'])).toEqual([]);
        const many = [...Array.from({ length: 5_000 }, (_, i) => `b/k${i}`), 'a/x'];
        expect((await storage().latestMaterializations(many)).map(brief)).toEqual(['a/x@-:x1']);
      });

      it('lists history newest first, filtered by partition and paged', async () => {
        await materialize('m1', 'a/y', 'p1', 'v1');
        await materialize('m1', 'a/y', null, 'v2');
        await materialize('m1', 'a/y', 'p2', 'v3');
        await materialize('m1', 'a/other', 'p1', 'o1');
        await materialize('m2', 'a/y', 'p1', 'v4');
        const versions = async (options?: Parameters<Storage['materializationHistory']>[1]) =>
          (await storage().materializationHistory('a/y', options)).map((m) => m.dataVersion);
        expect(await versions()).toEqual(['v4', 'v3', 'v2', 'v1']);
        expect(await versions({ partition: 'p1' })).toEqual(['v4', 'v1']);
        expect(await versions({ partition: null })).toEqual(['v2']);
        expect(await versions({ partition: 'none' })).toEqual([]);
        expect(await versions({ limit: 2, offset: 1 })).toEqual(['v3', 'v2']);
        expect(await versions({ partition: 'p1', offset: 1 })).toEqual(['v1']);
        const ids = (await storage().materializationHistory('a/y')).map((m) => m.id!);
        expect([...ids].sort((a, b) => b - a)).toEqual(ids);
      });

      it("sums an asset's materializations up per run, newest run first, paged", async () => {
        await materialize('m1', 'a/y', '2024-01-02', 'v1', 1_000);
        await materialize('m1', 'a/y', '2024-01-01', 'v2', 1_500);
        await materialize('m1', 'a/other', '2024-01-01', 'o1');
        await materialize('m2', 'a/y', '2024-01-03', 'v3', 2_000);
        await storage().commitStep({ events: [], materializations: [aMaterialization('m2', 'a/z', null, { rowCount: null })] });
        expect(await storage().materializationsByRun('a/y')).toEqual([
          {
            runId: 'm2',
            partitions: 1,
            firstPartition: '2024-01-03',
            lastPartition: '2024-01-03',
            rowCount: 10,
            timestamp: 2_000,
            codeVersion: 'code-1',
            metadata: {},
          },
          {
            runId: 'm1',
            partitions: 2,
            firstPartition: '2024-01-01',
            lastPartition: '2024-01-02',
            rowCount: 20,
            timestamp: 1_500,
            codeVersion: 'code-1',
            metadata: {},
          },
        ]);
        expect((await storage().materializationsByRun('a/y', { limit: 1, offset: 1 })).map((r) => r.runId)).toEqual(['m1']);
        expect(await storage().materializationsByRun('a/z')).toEqual([
          { runId: 'm2', partitions: 1, firstPartition: null, lastPartition: null, rowCount: null, timestamp: 3_000, codeVersion: 'code-1', metadata: {} },
        ]);
        expect(await storage().materializationsByRun('a/none')).toEqual([]);
        // The code version and metadata are the run's last ones, whichever partition key sorts last.
        await storage().commitStep({
          events: [],
          materializations: [aMaterialization('m2', 'a/v', '2024-01-09', { codeVersion: 'code-1', timestamp: 1_000, metadata: { rowsInserted: 1 } })],
        });
        await storage().commitStep({
          events: [],
          materializations: [
            aMaterialization('m2', 'a/v', '2024-01-01', { codeVersion: 'code-2', timestamp: 900, metadata: { rowsInserted: 2, rowsClosed: 1 } }),
          ],
        });
        expect(await storage().materializationsByRun('a/v')).toEqual([
          {
            runId: 'm2',
            partitions: 2,
            firstPartition: '2024-01-01',
            lastPartition: '2024-01-09',
            rowCount: 20,
            timestamp: 1_000,
            codeVersion: 'code-2',
            metadata: { rowsInserted: 2, rowsClosed: 1 },
          },
        ]);
      });

      it('round-trips metadata and input data versions as JSON', async () => {
        const record = aMaterialization('m1', 'marts/sales', '2024-03-01', {
          inputDataVersions: { 'staging/orders@2024-03-01': 'abc', 'raw/fx': 'def' },
          metadata: { rows: 42, columns: ['id', 'amount'], nested: { ok: true, none: null, ratio: 0.25 }, text: 'ünïcode ✓' },
          rowCount: null,
          timestamp: 1_700_000_000_999,
        });
        await storage().commitStep({ events: [], materializations: [record] });
        const [latest] = await storage().latestMaterializations(['marts/sales']);
        const [history] = await storage().materializationHistory('marts/sales');
        expect(withoutId(latest!)).toEqual(record);
        expect(history).toEqual(latest);
      });
    });

    describe('check results', () => {
      it('keeps the latest result per asset, check and partition', async () => {
        const commit = (...checks: Parameters<typeof aCheckResult>[]) =>
          storage().commitStep({ events: [], checkResults: checks.map((c) => aCheckResult(...c)) });
        await commit(['m1', 'a/x', 'not_null'], ['m1', 'a/x', 'unique'], ['m1', 'a/y', 'not_null', { partition: 'p1' }]);
        await commit(['m2', 'a/x', 'not_null', { passed: false, violations: 3 }], ['m2', 'a/y', 'not_null', { partition: 'p2' }]);
        const latest = await storage().latestCheckResults();
        expect(latest.map((c) => `${c.assetKey}:${c.checkName}@${c.partition ?? '-'}:${c.runId}:${c.passed}`)).toEqual([
          'a/x:not_null@-:m2:false',
          'a/x:unique@-:m1:true',
          'a/y:not_null@p1:m1:true',
          'a/y:not_null@p2:m2:true',
        ]);
        expect((await storage().latestCheckResults(['a/y'])).map((c) => c.partition)).toEqual(['p1', 'p2']);
        expect(await storage().latestCheckResults([])).toEqual([]);
      });

      it('lists an asset’s check history newest first and paged', async () => {
        for (const [i, name] of ['a', 'b', 'c'].entries()) {
          await storage().commitStep({ events: [], checkResults: [aCheckResult('m1', 'a/x', name, { timestamp: i })] });
        }
        await storage().commitStep({ events: [], checkResults: [aCheckResult('m1', 'a/other', 'z')] });
        expect((await storage().checkHistory('a/x')).map((c) => c.checkName)).toEqual(['c', 'b', 'a']);
        expect((await storage().checkHistory('a/x', { limit: 1, offset: 1 })).map((c) => c.checkName)).toEqual(['b']);
        expect(await storage().checkHistory('a/none')).toEqual([]);
      });

      it('round-trips failing results with their sample rows', async () => {
        const check = aCheckResult('m1', 'a/x', 'positive_amount', {
          partition: '2024-01-01',
          passed: false,
          severity: 'warn',
          violations: 2,
          sample: [
            { id: 1, amount: -5 },
            { id: 2, amount: -0.5, note: 'ünïcode', extra: null },
          ],
          durationMs: 12.75,
        });
        await storage().commitStep({ events: [], checkResults: [check] });
        const [latest] = await storage().latestCheckResults(['a/x']);
        expect(withoutId(latest!)).toEqual(check);
        expect(await storage().checkHistory('a/x')).toEqual([latest]);
      });

      it('round-trips a check that could not run with its error, and a later result that ran without one', async () => {
        const errored = aCheckResult('m1', 'a/x', 'known_customers', {
          passed: false,
          violations: 0,
          error: 'Catalog Error: Table with name customers does not exist!',
        });
        await storage().commitStep({ events: [], checkResults: [errored] });
        const [latest] = await storage().latestCheckResults(['a/x']);
        expect(withoutId(latest!)).toEqual(errored);
        expect(await storage().checkHistory('a/x')).toEqual([latest]);
        await storage().commitStep({ events: [], checkResults: [aCheckResult('m2', 'a/x', 'known_customers', { timestamp: 2 })] });
        const [after] = await storage().latestCheckResults(['a/x']);
        expect(after).toMatchObject({ runId: 'm2', passed: true });
        expect(after).not.toHaveProperty('error');
        expect((await storage().checkHistory('a/x')).map((r) => r.error ?? null)).toEqual([null, 'Catalog Error: Table with name customers does not exist!']);
      });
    });
  });
}
