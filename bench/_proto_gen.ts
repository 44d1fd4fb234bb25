import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
const f = '/tmp/proto/source.duckdb';
rmSync(f, { force: true }); rmSync(f + '.wal', { force: true });
const db = await DuckDBInstance.create(f);
const c = await db.connect();
let t = performance.now();
await c.run(`create schema raw`);
await c.run(`create table raw.orders as
with g as (select range as i from range(0, 365 * 28000))
select
  i as line_id,
  (i // 2)::bigint as order_id,
  timestamp '2025-01-01' + to_microseconds((i * 86400000000 // 28000)::bigint) as ordered_at,
  (hash(i // 2) % 200000)::integer as customer_id,
  'S' || lpad(((hash(i // 2, 1) % 40))::varchar, 3, '0') as store_code,
  case when i % 97 = 0 then ' p' else 'P' end || lpad((hash(i, 2) % 60)::varchar, 3, '0') as product_code,
  (1 + hash(i, 3) % 5)::varchar as quantity,
  case when i % 1013 = 0 then 'n/a' else ((100 + hash(i, 4) % 9900) / 100)::decimal(10,2)::varchar end as unit_price,
  (['completed','completed','completed','refunded','CANCELLED '])[(1 + hash(i // 2, 5) % 5)::bigint] as status
from g order by i`);
console.log('gen ms', performance.now() - t);
console.log((await c.runAndReadAll(`select count(*), min(ordered_at), max(ordered_at) from raw.orders`)).getRows());
t = performance.now();
console.log((await c.runAndReadAll(`explain analyze select count(*), sum(try_cast(unit_price as decimal(10,2))) from raw.orders where ordered_at >= timestamp '2025-06-01' and ordered_at < timestamp '2025-06-02'`)).getRows()[0]?.[1]);
console.log('q ms', performance.now() - t);
c.closeSync(); db.closeSync();
