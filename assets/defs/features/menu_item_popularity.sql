-- description: Menu item popularity as of the last business day in the data: units and
-- description: revenue over the last 7 days and the 7 days before, rank overall and within
-- description: the category, and the trend (rising, falling, steady, new, no_sales).
-- group: features
-- owners: analytics@bistro.example
-- tags: domain=menu, model=menu_engineering
with bounds as (
  select max(business_date) as as_of_date from marts.fct_sales
),
windowed as (
  select
    f.menu_item_id,
    sum(f.quantity) filter (where f.business_date > b.as_of_date - 7) as units_last_7d,
    sum(f.quantity) filter (where f.business_date <= b.as_of_date - 7 and f.business_date > b.as_of_date - 14) as units_prior_7d,
    sum(f.net_amount) filter (where f.business_date > b.as_of_date - 7) as revenue_last_7d,
    sum(f.quantity) as units_to_date,
    count(distinct f.order_id) as orders_to_date
  from marts.fct_sales as f
  cross join bounds as b
  group by f.menu_item_id
),
scored as (
  select
    m.menu_item_id,
    m.item_name,
    m.category_code,
    b.as_of_date,
    coalesce(w.units_last_7d, 0) as units_last_7d,
    coalesce(w.units_prior_7d, 0) as units_prior_7d,
    coalesce(w.revenue_last_7d, 0) as revenue_last_7d,
    coalesce(w.units_to_date, 0) as units_to_date,
    coalesce(w.orders_to_date, 0) as orders_to_date
  from marts.dim_menu_items as m
  cross join bounds as b
  left join windowed as w on w.menu_item_id = m.menu_item_id
)
select
  *,
  rank() over (order by units_last_7d desc) as popularity_rank,
  rank() over (partition by category_code order by units_last_7d desc) as category_rank,
  round(units_last_7d / nullif(units_prior_7d, 0) - 1, 4) as units_trend_pct,
  case
    when units_last_7d = 0 and units_prior_7d = 0 then 'no_sales'
    when units_prior_7d = 0 then 'new'
    when units_last_7d >= units_prior_7d * 1.1 then 'rising'
    when units_last_7d <= units_prior_7d * 0.9 then 'falling'
    else 'steady'
  end as trend
from scored
