import { postgresTable } from 'strata';

/**
 * The shop's tables as source assets: each is observed by its row count and newest `updated_at`
 * whenever Strata plans or the daemon ticks, so an edit, a new row or a hard delete in Postgres
 * makes the raw assets that load it stale (`assets status --stale`), and `--stale-only` loads
 * only those.
 */
const observed = (table: string) =>
  postgresTable({
    key: `shop/${table}`,
    resource: 'shop_db',
    table: `shop.${table}`,
    watermark: 'updated_at',
    description: `shop.${table} in the shop's Postgres.`,
  });

export const customers = observed('customers');
export const products = observed('products');
export const orders = observed('orders');
