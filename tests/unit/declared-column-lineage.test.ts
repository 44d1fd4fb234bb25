import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { DefinitionError } from '../../core/model/errors.ts';

const materialize = () => undefined;

describe('asset({ columnLineage })', () => {
  it('keeps the declared columns in order, each source identity unless it says how', () => {
    const definition = asset({
      key: 'raw/orders',
      deps: ['landing/orders', 'landing/items'],
      columnLineage: { order_id: ['landing/orders.id'], total: [{ from: 'landing/items.price', kind: 'aggregation' }], loaded_at: [] },
      materialize,
    });
    expect(definition.compute.type === 'typescript' && definition.compute.columnLineage).toEqual([
      { name: 'order_id', sources: [{ asset: 'landing/orders', column: 'id', kind: 'identity' }] },
      { name: 'total', sources: [{ asset: 'landing/items', column: 'price', kind: 'aggregation' }] },
      { name: 'loaded_at', sources: [] },
    ]);
  });

  it('is absent when not declared', () => {
    const definition = asset({ key: 'raw/orders', materialize });
    expect(definition.compute.type === 'typescript' && definition.compute.columnLineage).toBeUndefined();
  });

  it.each([
    [{ id: ['landing/orders.id'] }, 'columnLineage of "id" names "landing/orders.id", but "landing/orders" is not a dependency (add it to deps)'],
    [{ id: ['orders'] }, '"orders" must name an upstream column as "layer/asset.column"'],
    [{ id: [{ from: 'landing/orders.id', kind: 'copy' }] }, 'columnLineage'],
    [{ id: 'landing/orders.id' }, 'columnLineage'],
  ])('rejects %j with an error naming the asset', (columnLineage, message) => {
    let error: unknown;
    try {
      asset({ key: 'raw/orders', columnLineage: columnLineage as never, materialize });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    expect(error).toMatchObject({ code: 'asset_invalid', context: { assetKey: 'raw/orders' } });
    expect((error as Error).message).toContain(message);
  });
});
