/**
 * The project the OpenLineage tests run: a source asset (`landing/feed`, version `feed-v1`), a
 * TypeScript asset reading it (`raw/orders`, whose schema the run records), a SQL asset with a passing
 * and a failing warn check (`staging/orders`), a SQL asset whose blocking check fails
 * (`marts/by_customer`), and one downstream of it, skipped (`marts/after`).
 */
export const OPENLINEAGE_PROJECT_FILES: Readonly<Record<string, string>> = {
  'package.json': JSON.stringify({ type: 'module', private: true }),
  'defs/sources.ts':
    "import { sourceAsset } from 'strata';\nexport const feed = sourceAsset({ key: 'landing/feed', observe: () => [{ dataVersion: 'feed-v1' }] });\n",
  'defs/raw/orders.ts': [
    "import { asset } from 'strata';",
    'export const orders = asset({',
    "  key: 'raw/orders',",
    "  deps: ['landing/feed'],",
    '  materialize: async (ctx) => ({',
    "    rowCount: await ctx.warehouse.replaceTable(\"select * from (values (1, 'a', 10.0), (2, 'b', 20.0), (3, null, 5.0)) t(order_id, customer, amount)\"),",
    '  }),',
    '});',
  ].join('\n'),
  'defs/staging/orders.sql': [
    '-- check: not_null(order_id)',
    "-- check: accepted_values(customer, 'A') severity=warn",
    'select order_id, upper(customer) as customer, amount from raw.orders where amount > 1',
  ].join('\n'),
  'defs/marts/by_customer.sql': '-- check: not_null(customer)\nselect customer, sum(amount) as total from staging.orders group by customer\n',
  'defs/marts/after.sql': 'select * from marts.by_customer\n',
};

/**
 * The OpenLineage events of a run of the whole project, as `EVENTTYPE job`: a START and an end per
 * step that ran; the blocking check of `marts/by_customer` fails it, and `marts/after`, skipped, emits nothing.
 */
export const RUN_OF_A_FAILING_CHECK: readonly string[] = [
  'START raw/orders',
  'COMPLETE raw/orders',
  'START staging/orders',
  'COMPLETE staging/orders',
  'START marts/by_customer',
  'FAIL marts/by_customer',
];
