/**
 * Simulates one day of the shop after its latest change: customers edit their details and new
 * ones sign up, a customer is erased (a hard delete, their orders with them), prices move, a
 * product is added, orders ship and arrive, new orders come in. Every changed row gets an
 * `updated_at` on that day; the deleted rows leave no trace. The changes depend only on the day,
 * so the same sequence of days always gives the same database.
 *
 *   SHOP_DB_URL=postgres://… npx tsx examples/postgres-elt/scripts/simulate-day.ts
 */
import { withShopDb, write } from './shop-db.ts';

/** The day after the latest change (2025-07-01 after create-shop), as its number from 2025-07-01 on. */
const NEXT_DAY = `
  select (max(updated_at) at time zone 'UTC')::date + 1 - date '2025-06-30' as day
  from (select updated_at from shop.customers union all select updated_at from shop.orders) as changes`;

const ERASE_CUSTOMER = `delete from shop.customers where id = 3 * $1::int`; // $1: the day's number
// Below, $1: the day's midnight (UTC); $2: the day's number (1 = 2025-07-01).
const EDIT_CUSTOMERS = `
  update shop.customers
  set city = (array['Lisbon', 'Porto', 'Braga', 'Faro', 'Coimbra', 'Aveiro'])[1 + (id + $2::int) % 6],
      email = 'customer' || id || '.' || $2::int || '@mail.example',
      updated_at = $1::timestamptz + interval '9 hours' + id * interval '1 second'
  where id % 40 = $2::int % 40`;
const SIGN_UPS = `
  insert into shop.customers
  select last + k, 'Customer ' || last + k, 'customer' || last + k || '@mail.example',
         (array['Lisbon', 'Porto', 'Braga', 'Faro', 'Coimbra', 'Aveiro'])[1 + k % 6], at, at
  from generate_series(1, 12) as k, (select max(id) as last from shop.customers) as m,
       lateral (select $1::timestamptz + k * interval '1 hour' as at) as t`;
const REPRICE = `update shop.products set price = round(price * 1.1, 2), updated_at = $1::timestamptz + interval '6 hours' where id % 10 = $2::int % 10`;
const NEW_PRODUCT = `
  insert into shop.products
  select max(id) + 1, 'Seasonal blend no. ' || $2::int, 'coffee', 14.50, $1::timestamptz + interval '6 hours' from shop.products`;
const SHIP_AND_DELIVER = `
  update shop.orders
  set status = case status when 'placed' then 'shipped' else 'delivered' end,
      updated_at = $1::timestamptz + interval '10 hours' + id * interval '1 second'
  where status = 'placed' or (status = 'shipped' and ordered_at < $1::timestamptz - interval '3 days')`;
// 150 orders through the day, by customers who signed up before it, of any product (new ones included).
const NEW_ORDERS = `
  insert into shop.orders
  select last + k, c.id, p.id, 1 + k % 3, p.price, 'placed', at, at
  from generate_series(1, 150) as k
  cross join (select max(id) as last from shop.orders) as m
  join (select id, row_number() over (order by id) - 1 as n, count(*) over () as total from shop.customers where created_at < $1) as c
    on c.n = (k * 7919 + $2::int) % c.total
  join (select id, price, row_number() over (order by id) - 1 as n, count(*) over () as total from shop.products) as p
    on p.n = (k * 31 + $2::int) % p.total,
  lateral (select $1::timestamptz + k * interval '9 minutes' as at) as t`;

await withShopDb(async (db) => {
  const [shop] = (await db.query<{ found: boolean }>(`select to_regclass('shop.orders') is not null as found`)).rows;
  if (!shop?.found) throw new Error('this database has no shop: run create-shop.ts first');
  const day = Number((await db.query<{ day: number }>(NEXT_DAY)).rows[0]?.day);
  const midnight = new Date(Date.UTC(2025, 5, 30 + day)).toISOString();
  const params = [midnight, day];
  const erasedOrders = Number((await db.query(`select count(*) as n from shop.orders where customer_id = 3 * $1::int`, [day])).rows[0]?.n);
  const erased = await write(db, ERASE_CUSTOMER, [day]);
  const edited = await write(db, EDIT_CUSTOMERS, params);
  const signedUp = await write(db, SIGN_UPS, [midnight]);
  const repriced = await write(db, REPRICE, params);
  const added = await write(db, NEW_PRODUCT, params);
  const moved = await write(db, SHIP_AND_DELIVER, [midnight]);
  const ordered = await write(db, NEW_ORDERS, params);
  console.log(`day ${day} (${midnight.slice(0, 10)}):`);
  console.log(`  customers: ${edited} updated, ${signedUp} inserted, ${erased} deleted (customer ${3 * day}, with ${erasedOrders} orders)`);
  console.log(`  products:  ${repriced} updated, ${added} inserted`);
  console.log(`  orders:    ${moved} updated, ${ordered} inserted, ${erasedOrders} deleted`);
});
