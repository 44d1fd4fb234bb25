/**
 * Creates the example's source database: a web shop's schema `shop` with `customers`,
 * `products` and `orders`, every row carrying `updated_at`. The data is deterministic (the same
 * rows on every run) and covers 2025-01-01 to 2025-06-30. Re-running starts the shop again
 * (the schema is dropped first).
 *
 *   SHOP_DB_URL=postgres://… npx tsx examples/postgres-elt/scripts/create-shop.ts
 */
import { withShopDb, write } from './shop-db.ts';

const SCHEMA = `
  drop schema if exists shop cascade;
  create schema shop;
  create table shop.customers (
    id integer primary key, name text not null, email text not null, city text not null,
    created_at timestamptz not null, updated_at timestamptz not null);
  create table shop.products (
    id integer primary key, name text not null, category text not null, price numeric(10, 2) not null,
    updated_at timestamptz not null);
  create table shop.orders (
    id integer primary key,
    customer_id integer not null references shop.customers on delete cascade,
    product_id integer not null references shop.products,
    quantity integer not null, unit_price numeric(10, 2) not null,
    status text not null check (status in ('placed', 'shipped', 'delivered', 'cancelled')),
    ordered_at timestamptz not null, updated_at timestamptz not null);
  create index on shop.customers (updated_at);
  create index on shop.products (updated_at);
  create index on shop.orders (updated_at);`;

// 40 products in four categories.
const PRODUCTS = `
  insert into shop.products
  select i, initcap(category) || ' no. ' || i, category, 3 + (i * 37 % 90) / 4.0, timestamptz '2025-01-01 00:00+00'
  from generate_series(1, 40) as i,
       lateral (select (array['coffee', 'tea', 'bakery', 'merch'])[1 + i % 4] as category) as c`;

// 600 customers signing up every 7 hours; some change their details a few days later.
const CUSTOMERS = `
  insert into shop.customers
  select i, 'Customer ' || i, 'customer' || i || '@mail.example',
         (array['Lisbon', 'Porto', 'Braga', 'Faro', 'Coimbra', 'Aveiro'])[1 + i % 6],
         signup, least(signup + (i * 13 % 20) * interval '1 day', timestamptz '2025-06-30 12:00+00')
  from generate_series(1, 600) as i,
       lateral (select timestamptz '2025-01-01 00:00+00' + i * interval '7 hours' as signup) as s`;

// 4,000 orders, one every 65 minutes, each by a customer who had signed up; recent ones are still on their way.
const ORDERS = `
  insert into shop.orders
  select i, 1 + (i * 7919) % least(600, (420 + i * 65) / 420), 1 + (i * 31) % 40, 1 + (i * 17) % 3, p.price,
         case when i % 29 = 0 then 'cancelled'
              when ordered < timestamptz '2025-06-23 00:00+00' then 'delivered'
              when ordered < timestamptz '2025-06-28 00:00+00' then 'shipped' else 'placed' end,
         ordered,
         least(ordered + (case when i % 29 = 0 then 1 else 1 + i % 5 end) * interval '1 day', timestamptz '2025-06-30 23:00+00')
  from generate_series(1, 4000) as i
  join shop.products as p on p.id = 1 + (i * 31) % 40,
       lateral (select timestamptz '2025-01-01 07:00+00' + i * interval '65 minutes' as ordered) as o`;

await withShopDb(async (db) => {
  await db.query(SCHEMA);
  const products = await write(db, PRODUCTS);
  const customers = await write(db, CUSTOMERS);
  const orders = await write(db, ORDERS);
  const { rows } = await db.query<{ last: string }>(`select max(updated_at)::text as last from shop.orders`);
  console.log(`shop: ${customers} customers, ${products} products, ${orders} orders (updated_at up to ${rows[0]?.last})`);
});
