/**
 * What dbt Labs' jaffle_shop (examples/jaffle_shop) must hold once built, computed in plain
 * TypeScript from its seed CSVs (not with the project's SQL): shared by its end-to-end tests on
 * DuckDB and on the Postgres warehouse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli-harness.ts';

/** The example project, unmodified. */
export const JAFFLE_SHOP = path.join(REPO_ROOT, 'examples', 'jaffle_shop');

/** The rows of a seed CSV (jaffle_shop's have no quoted fields). */
function csv(name: string): Record<string, string>[] {
  const [header, ...lines] = fs
    .readFileSync(path.join(JAFFLE_SHOP, 'seeds', `${name}.csv`), 'utf8')
    .trim()
    .split(/\r?\n/);
  const columns = (header as string).split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i], value])));
}

export const customers = csv('raw_customers');
export const orders = csv('raw_orders');
export const payments = csv('raw_payments');
/** The payment methods `orders.sql` loops over, in its order. */
export const METHODS = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'];

/** Dollars of the payments of an order, per method (amounts are stored in cents). */
function paid(orderId: string, method?: string): number {
  return payments
    .filter((p) => p.order_id === orderId && (method === undefined || p.payment_method === method))
    .reduce((sum, p) => sum + Number(p.amount) / 100, 0);
}

/** Rounds to cents (`null` stays `null`). */
export const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/** The rows of `customers`, by customer id: first and last order dates (`YYYY-MM-DD`), order count, lifetime value. */
export function expectedCustomers(): Record<string, unknown>[] {
  return customers.map((c) => {
    const own = orders.filter((o) => o.user_id === c.id);
    const dates = own.map((o) => o.order_date as string).sort();
    const value = own.length === 0 ? null : own.reduce((sum, o) => sum + paid(o.id as string), 0);
    return {
      customer_id: Number(c.id),
      first_name: c.first_name,
      last_name: c.last_name,
      first_order: dates[0] ?? null,
      most_recent_order: dates[dates.length - 1] ?? null,
      number_of_orders: own.length === 0 ? null : own.length,
      customer_lifetime_value: round(value),
    };
  });
}

/** The checksum of `customers`: its total lifetime value and number of orders. */
export function expectedCustomerSums(): { value: number | null; orders: number } {
  const total = expectedCustomers().reduce((sum, c) => sum + ((c.customer_lifetime_value as number | null) ?? 0), 0);
  return { value: round(total), orders: orders.length };
}

/** The rows of `orders`, by order id, with the amount of each payment method. */
export function expectedOrders(): Record<string, unknown>[] {
  return orders.map((o) => ({
    order_id: Number(o.id),
    customer_id: Number(o.user_id),
    order_date: o.order_date,
    status: o.status,
    ...Object.fromEntries(METHODS.map((m) => [`${m}_amount`, round(paid(o.id as string, m))])),
    amount: round(paid(o.id as string)),
  }));
}

/** The 20 schema.yml tests as checks (`<asset> <check>`, sorted), the marts in schema `marts`. */
export function expectedChecks(marts: string): string[] {
  return [
    `${marts}/customers not_null(customer_id)`,
    `${marts}/customers unique(customer_id)`,
    `${marts}/orders accepted_values(status, 'placed', 'shipped', 'completed', 'return_pending', 'returned')`,
    `${marts}/orders not_null(amount)`,
    `${marts}/orders not_null(bank_transfer_amount)`,
    `${marts}/orders not_null(coupon_amount)`,
    `${marts}/orders not_null(credit_card_amount)`,
    `${marts}/orders not_null(customer_id)`,
    `${marts}/orders not_null(gift_card_amount)`,
    `${marts}/orders not_null(order_id)`,
    `${marts}/orders relationships(customer_id, ${marts}/customers.customer_id)`,
    `${marts}/orders unique(order_id)`,
    'staging/stg_customers not_null(customer_id)',
    'staging/stg_customers unique(customer_id)',
    "staging/stg_orders accepted_values(status, 'placed', 'shipped', 'completed', 'return_pending', 'returned')",
    'staging/stg_orders not_null(order_id)',
    'staging/stg_orders unique(order_id)',
    "staging/stg_payments accepted_values(payment_method, 'credit_card', 'coupon', 'bank_transfer', 'gift_card')",
    'staging/stg_payments not_null(payment_id)',
    'staging/stg_payments unique(payment_id)',
  ].sort();
}
