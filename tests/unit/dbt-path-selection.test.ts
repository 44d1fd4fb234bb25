/**
 * dbt's `path:` method in Strata's selection grammar: the assets made from the dbt nodes whose
 * file (relative to the dbt project's root, the resource folder optional) is the path or under
 * it; it combines with every operator, prints back as written, and an unknown path is refused
 * with suggestions as an unknown name is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { AttributeNode, parseSelection, selectAssets } from '../../core/model/selection/index.ts';
import { SelectionError } from '../../core/model/errors.ts';
import type { AssetSpec } from '../../core/model/definitions/asset-spec.ts';
import { spec } from './selection-fixture.ts';

const DBT = ['sql', 'duckdb', 'dbt'];

function dbtSpec(key: string, deps: string[], dbtPath: string, fields: Partial<AssetSpec> = {}): AssetSpec {
  return Object.freeze({ ...spec(key, deps, { kinds: DBT, ...fields }), dbtPath });
}

const graph = AssetGraph.build([
  dbtSpec('seeds/raw_orders', [], 'seeds/raw_orders.csv', { kinds: ['seed', 'duckdb', 'dbt'] }),
  dbtSpec('staging/stg_orders', ['seeds/raw_orders'], 'models/staging/stg_orders.sql', { tags: { nightly: '' } }),
  dbtSpec('staging/stg_payments', ['seeds/raw_orders'], 'models/staging/stg_payments.sql'),
  dbtSpec('main/customers', ['staging/stg_orders'], 'models/customers.sql'),
  dbtSpec('finance/orders', ['staging/stg_orders', 'staging/stg_payments'], 'models/marts/finance/orders.sql', { tags: { nightly: '' } }),
  dbtSpec('snapshots/orders_snapshot', ['staging/stg_orders'], 'snapshots/orders_snapshot.sql'),
  spec('reports/summary', ['main/customers']),
]);

const select = (text: string) => [...selectAssets(graph, text).keys].sort();

function selectionError(text: string): SelectionError {
  try {
    selectAssets(graph, text);
  } catch (error) {
    if (error instanceof SelectionError) return error;
    throw error;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('path: selection', () => {
  it.each([
    ['path:models/staging', ['staging/stg_orders', 'staging/stg_payments']],
    ['path:staging', ['staging/stg_orders', 'staging/stg_payments']],
    ['path:./models/staging/', ['staging/stg_orders', 'staging/stg_payments']],
    ['path:models/staging/stg_orders.sql', ['staging/stg_orders']],
    ['path:staging/stg_orders.sql', ['staging/stg_orders']],
    ['path:models/marts', ['finance/orders']],
    ['path:marts/finance/orders.sql', ['finance/orders']],
    ['path:models', ['finance/orders', 'main/customers', 'staging/stg_orders', 'staging/stg_payments']],
    ['path:seeds', ['seeds/raw_orders']],
    ['path:seeds/raw_orders.csv', ['seeds/raw_orders']],
    ['path:snapshots', ['snapshots/orders_snapshot']],
    ['path:models/*/stg_p*', ['staging/stg_payments']],
    ['+path:models/marts', ['finance/orders', 'seeds/raw_orders', 'staging/stg_orders', 'staging/stg_payments']],
    ['path:models/staging+1', ['finance/orders', 'main/customers', 'snapshots/orders_snapshot', 'staging/stg_orders', 'staging/stg_payments']],
    ['path:models and tag:nightly', ['finance/orders', 'staging/stg_orders']],
    ['path:models and not path:models/staging', ['finance/orders', 'main/customers']],
    ['path:seeds or path:snapshots', ['seeds/raw_orders', 'snapshots/orders_snapshot']],
    ['PATH:"models/staging"', ['staging/stg_orders', 'staging/stg_payments']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });

  it('a folder name is not a prefix of a longer one: path:models/stag selects nothing', () => {
    expect(selectionError('path:models/stag').message).toMatch(/^unknown path "models\/stag" at column 1 \(did you mean "models\/staging"/);
  });

  it('an unknown path is refused with suggestions, pointing at it', () => {
    const error = selectionError('+path:models/stagin and tag:nightly');
    expect(error.message).toContain('unknown path "models/stagin"');
    expect(error.suggestions).toContain('models/staging');
    expect(error.context.position).toBe(1);
    expect(selectionError('path:models/nope/*').message).toMatch(/"path:models\/nope\/\*" matches no assets/);
    // Assets not made from dbt nodes have no path.
    expect(selectionError('path:reports').message).toMatch(/unknown path "reports"/);
  });

  it.each([
    ['path:models/staging', 'path:models/staging'],
    ['PATH:./models/staging/', 'path:models/staging'],
    ['path:"models/my folder"', 'path:"models/my folder"'],
    ['+path:models/marts+2 and not path:seeds', '+path:models/marts+2 and not path:seeds'],
  ])('%s prints as %s', (text, printed) => {
    expect(parseSelection(text).toString()).toBe(printed);
  });

  it('an unknown attribute near path is suggested', () => {
    expect(() => parseSelection('pth:models')).toThrow(/unknown attribute "pth" at column 1 \(did you mean "path"/);
  });

  it('round-trips any path: printed, parsed again, it prints the same and selects the same', () => {
    // Segments of the graph's paths, so that many generated paths select something, and others.
    const known = fc.constantFrom('models', 'staging', 'marts', 'finance', 'seeds', 'snapshots', 'stg_orders.sql', 'orders.sql', 'raw_orders.csv');
    const other = fc.stringMatching(/^[a-z_][a-z0-9_ .-]{0,6}$/).filter((s) => s !== '.' && s !== '..' && !s.endsWith(' '));
    const path = fc.array(fc.oneof(known, other), { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'));
    // The oracle: the file, or the file without its resource folder, is the path or under it.
    const under = (file: string, value: string) => [file, file.slice(file.indexOf('/') + 1)].some((f) => f === value || f.startsWith(`${value}/`));
    fc.assert(
      fc.property(path, fc.constantFrom('', '+', '2+'), (value, up) => {
        const node = new AttributeNode('path', value);
        const printed = `${up}${node}`;
        const again = parseSelection(printed);
        expect(again.toString()).toBe(printed);
        const leaf = up === '' ? again : again.operands[0];
        expect(leaf).toBeInstanceOf(AttributeNode);
        expect((leaf as AttributeNode).value).toBe(value);
        const expected = graph.keys.filter((key) => {
          const file = graph.spec(key).dbtPath;
          return file !== undefined && under(file, value);
        });
        expect([...node.resolve(graph)].sort()).toEqual(expected.sort());
      }),
      { seed: 20_261_205, numRuns: 300 },
    );
  });
});
