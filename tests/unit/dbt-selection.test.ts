/**
 * dbt's node selection inside Strata's grammar: a bare model or seed name (no `/`, so no key)
 * selects the dbt asset of that name, with `+` traversals around it; `tag:` selects dbt tags
 * (key-only Strata tags) and `kind:dbt` the whole dbt project. Strata's keys always win.
 */
import { describe, expect, it } from 'vitest';
import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { selectAssets } from '../../core/model/selection/index.ts';
import { SelectionError } from '../../core/model/errors.ts';
import { spec } from './selection-fixture.ts';

const DBT = ['sql', 'duckdb', 'dbt'];

const graph = AssetGraph.build([
  spec('seeds/raw_orders', [], { kinds: ['seed', 'duckdb', 'dbt'] }),
  spec('staging/stg_orders', ['seeds/raw_orders'], { kinds: DBT, tags: { nightly: '' } }),
  spec('main/customers', ['staging/stg_orders'], { kinds: DBT }),
  spec('analytics/orders', ['staging/stg_orders'], { kinds: DBT }),
  spec('reports/summary', ['main/customers'], { kinds: ['sql', 'duckdb'] }),
]);

const select = (text: string) => [...selectAssets(graph, text).keys].sort();

describe('dbt node selection', () => {
  it.each([
    ['customers', ['main/customers']],
    ['+customers', ['main/customers', 'seeds/raw_orders', 'staging/stg_orders']],
    ['stg_orders+', ['analytics/orders', 'main/customers', 'reports/summary', 'staging/stg_orders']],
    ['stg_orders+1', ['analytics/orders', 'main/customers', 'staging/stg_orders']],
    ['raw_orders', ['seeds/raw_orders']],
    ['stg_*', ['staging/stg_orders']],
    ['orders', ['analytics/orders']],
    ['tag:nightly', ['staging/stg_orders']],
    ['kind:dbt and not raw_orders', ['analytics/orders', 'main/customers', 'staging/stg_orders']],
    ['staging/stg_orders', ['staging/stg_orders']],
  ])('%s', (text, expected) => {
    expect(select(text)).toEqual(expected);
  });

  it('a name that is no dbt model is still an unknown asset', () => {
    expect(() => select('summary')).toThrow(SelectionError);
    expect(() => select('summary')).toThrow(/unknown asset "summary"/);
  });
});
