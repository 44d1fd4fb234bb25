-- description: Sales fact at order-item grain: every item sold on a non-voided order, with
-- description: its order context (location, business date, daypart, dining option) and menu
-- description: attributes. net_amount is gross (quantity x unit price) minus discounts, before tax.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=sales
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- backfill_policy: single_run
-- check: unique(order_item_id)
-- check: not_null(menu_item_id) severity=warn
select
  i.order_item_id,
  i.order_id,
  o.location_id,
  o.business_date,
  o.opened_at,
  hour(o.opened_at) as order_hour,
  case
    when hour(o.opened_at) < 15 then 'lunch'
    when hour(o.opened_at) < 17 then 'afternoon'
    else 'dinner'
  end as daypart,
  o.dining_option,
  o.server_id,
  i.menu_item_id,
  coalesce(m.item_name, i.menu_item_name) as item_name,
  m.category_code,
  m.menu_group,
  i.quantity,
  i.unit_price,
  i.gross_amount,
  i.discount_amount,
  i.net_amount,
  i.quantity * m.food_cost as food_cost
from staging.order_items as i
join staging.orders as o on o.order_id = i.order_id
left join marts.dim_menu_items as m on m.menu_item_id = i.menu_item_id
where not o.is_voided
  and o.business_date >= {{ partition_start }} and o.business_date < {{ partition_end }}
  and i.business_date >= {{ partition_start }} and i.business_date < {{ partition_end }}
