import { AssetGraph } from '../../core/model/graph/asset-graph.ts';
import { MULTI_RUN, type AssetSpec } from '../../core/model/definitions/asset-spec.ts';

/** A frozen spec for selection tests: group from the key's first segment, kinds `sql` and `duckdb` unless given. */
export function spec(key: string, deps: string[], fields: Partial<Omit<AssetSpec, 'key' | 'deps'>> = {}): AssetSpec {
  return Object.freeze({
    key,
    deps: Object.freeze(deps),
    group: fields.group ?? key.split('/')[0] ?? 'default',
    tags: Object.freeze({ ...fields.tags }),
    owners: Object.freeze([...(fields.owners ?? [])]),
    kinds: Object.freeze([...(fields.kinds ?? ['sql', 'duckdb'])]),
    partitionMappings: Object.freeze({}),
    backfillPolicy: MULTI_RUN,
    checks: Object.freeze([]),
    ...(fields.description === undefined ? {} : { description: fields.description }),
  });
}

/**
 * A small restaurant analytics project:
 *
 * raw/orders ──> staging/orders ─────┐
 * raw/payments ─> staging/payments ──┼─> marts/fct_sales ─> marts/daily_revenue ─> features/location_features
 * raw/menu_items > staging/menu_items┴─> marts/dim_menu
 */
export const selectionGraph = AssetGraph.build([
  spec('raw/orders', [], { kinds: ['typescript'], tags: { source: 'pos' }, owners: ['alice@example.com'] }),
  spec('raw/payments', [], { kinds: ['typescript'], tags: { source: 'stripe', pii: '' }, owners: ['alice@example.com'] }),
  spec('raw/menu_items', [], { kinds: ['typescript'], tags: { source: 'pos' }, owners: ['team:menu'] }),
  spec('staging/orders', ['raw/orders'], { owners: ['bob@example.com'] }),
  spec('staging/payments', ['raw/payments'], { tags: { pii: '' }, owners: ['bob@example.com'] }),
  spec('staging/menu_items', ['raw/menu_items'], { owners: ['team:menu'] }),
  spec('marts/fct_sales', ['staging/orders', 'staging/payments', 'staging/menu_items'], { tags: { tier: 'gold' }, owners: ['team:analytics'] }),
  spec('marts/dim_menu', ['staging/menu_items'], { tags: { tier: 'silver' }, owners: ['team:menu', 'team:analytics'] }),
  spec('marts/daily_revenue', ['marts/fct_sales'], { tags: { tier: 'gold' }, owners: ['team:analytics'] }),
  spec('features/location_features', ['marts/daily_revenue'], { group: 'ml', kinds: ['typescript', 'python'], description: 'per-location features' }),
]);

/** Every key of {@link selectionGraph} in topological order. */
export const ALL_KEYS = [
  'raw/menu_items',
  'raw/orders',
  'raw/payments',
  'staging/menu_items',
  'staging/orders',
  'staging/payments',
  'marts/dim_menu',
  'marts/fct_sales',
  'marts/daily_revenue',
  'features/location_features',
];
