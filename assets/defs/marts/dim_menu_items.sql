-- description: Menu item dimension: one row per item with category, price, plate cost,
-- description: gross margin and price band.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=menu
select
  menu_item_id,
  item_name,
  category_code,
  category,
  menu_group,
  price,
  food_cost,
  price - food_cost as gross_margin,
  round(food_cost / nullif(price, 0), 4) as food_cost_pct,
  case
    when price < 10 then 'under_10'
    when price < 20 then '10_to_20'
    else '20_and_over'
  end as price_band,
  is_active
from staging.menu_items
