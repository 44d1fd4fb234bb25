-- description: POS order items, one row per item selection, typed and deduplicated (exact
-- description: duplicate lines and items re-sent with their order collapse to the latest export),
-- description: dated by their order's business date.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=sales, source=pos
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- partition_mapping: raw/order_items = window(0, 1)
-- backfill_policy: single_run
-- check: unique(order_item_id)
-- check: unique(order_id, menu_item_id)
-- check: not_null(order_id)
-- check: relationships(order_id, staging/orders.order_id)
--
-- Items of an order still open at export time come again with the re-sent order in the next
-- day's file, so the step reads its days' files plus one. The export carries no date of its
-- own: an item belongs to its order's business day (staging orders, same partitions).
with typed as (
  select
    upper(trim(order_item_id)) as order_item_id,
    upper(trim(order_id)) as order_id,
    upper(trim(menu_item_id)) as menu_item_id,
    trim(menu_item_name) as menu_item_name,
    try_cast(trim(quantity) as integer) as quantity,
    try_cast(trim(unit_price) as decimal(10, 2)) as unit_price,
    coalesce(try_cast(nullif(trim(discount_amount), '') as decimal(10, 2)), 0) as discount_amount,
    _source_file,
    _file_date
  from raw.order_items
  where _file_date >= {{ partition_start }} and _file_date < {{ partition_end }} + interval 1 day
),
latest as (
  select * exclude (_file_date)
  from typed
  qualify row_number() over (partition by order_item_id order by _file_date desc, menu_item_name) = 1
)
select
  i.order_item_id,
  i.order_id,
  o.business_date,
  i.menu_item_id,
  i.menu_item_name,
  i.quantity,
  i.unit_price,
  i.quantity * i.unit_price as gross_amount,
  i.discount_amount,
  i.quantity * i.unit_price - i.discount_amount as net_amount,
  i._source_file
from latest as i
join staging.orders as o on o.order_id = i.order_id
where o.business_date >= {{ partition_start }} and o.business_date < {{ partition_end }}
