/**
 * The column lineage part of the storage contract (see storage-contract.ts): every storage
 * records an asset's column lineage per definition version, replaces it when recorded again,
 * and reads it back exactly.
 */
import { describe, expect, it } from 'vitest';
import type { AssetColumnLineage } from '../../core/model/lineage/column-lineage.ts';
import type { Storage } from '../../storage/index.ts';

const sales: AssetColumnLineage = {
  key: 'marts/sales',
  columns: [
    { name: 'order_id', sources: [{ asset: 'staging/orders', column: 'id', kind: 'identity' }] },
    { name: 'total', sources: [{ asset: 'staging/orders', column: 'amount', kind: 'aggregation' }] },
    { name: 'note', sources: [], unknown: 'column "x" cannot be traced' },
  ],
  indirect: [{ asset: 'staging/orders', column: 'status', kind: 'filter' }],
};
const orders: AssetColumnLineage = { key: 'staging/orders', columns: null, indirect: [], unknown: 'the columns of raw/orders are not known yet' };

/** Registers the column lineage tests against the storage `storage()` returns. */
export function storageColumnLineageContract(storage: () => Storage): void {
  describe('column lineage', () => {
    it('records the column lineage of a version and reads it back by asset key', async () => {
      await storage().recordColumnLineage('v1', [sales, orders]);
      expect(await storage().columnLineage('v1')).toEqual([sales, orders]);
      expect(await storage().columnLineage('v2')).toEqual([]);
    });

    it('says whether a version has any column lineage', async () => {
      expect(await storage().hasColumnLineage('v1')).toBe(false);
      await storage().recordColumnLineage('v1', []);
      expect(await storage().hasColumnLineage('v1')).toBe(false);
      await storage().recordColumnLineage('v1', [orders]);
      expect(await storage().hasColumnLineage('v1')).toBe(true);
      expect(await storage().hasColumnLineage('v2')).toBe(false);
    });

    it('replaces an asset recorded again in the same version and keeps the others', async () => {
      await storage().recordColumnLineage('v1', [sales, orders]);
      const traced: AssetColumnLineage = {
        key: 'staging/orders',
        columns: [{ name: 'id', sources: [{ asset: 'raw/orders', column: 'id', kind: 'transformation' }] }],
        indirect: [],
      };
      await storage().recordColumnLineage('v1', [traced]);
      await storage().recordColumnLineage('v2', [orders]);
      expect(await storage().columnLineage('v1')).toEqual([sales, traced]);
      expect(await storage().columnLineage('v2')).toEqual([orders]);
    });
  });
}
