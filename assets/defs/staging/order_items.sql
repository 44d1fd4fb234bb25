-- description: POS order items, one row per item selection, typed and deduplicated (exact
-- description: duplicate lines and items re-sent with their order collapse to the latest export).
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=sales, source=pos
with typed as (
  select
    upper(trim(order_item_id)) as order_item_id,
    upper(trim(order_id)) as order_id,
    upper(trim(menu_item_id)) as menu_item_id,
    trim(menu_item_name) as menu_item_name,
    try_cast(trim(quantity) as integer) as quantity,
    try_cast(trim(unit_price) as decimal(10, 2)) as unit_price,
    coalesce(try_cast(nullif(trim(discount_amount), '') as decimal(10, 2)), 0) as discount_amount,
    _source_file
  from raw.order_items
)
select
  order_item_id,
  order_id,
  menu_item_id,
  menu_item_name,
  quantity,
  unit_price,
  quantity * unit_price as gross_amount,
  discount_amount,
  quantity * unit_price - discount_amount as net_amount,
  _source_file
from typed
qualify row_number() over (partition by order_item_id order by _source_file desc) = 1
