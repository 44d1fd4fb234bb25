-- description: Menu item popularity per business day: units and revenue over the 7 days up to
-- description: the day and the 7 days before, orders over the last 7 days, rank overall and
-- description: within the category, and the trend (rising, falling, steady, new, no_sales).
-- description: One row per menu item and day.
-- group: features
-- owners: analytics@bistro.example
-- tags: domain=menu, model=menu_engineering
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: as_of_date
-- partition_mapping: marts/fct_sales = window(-13, 0)
-- backfill_policy: single_run
-- check: unique(menu_item_id, as_of_date)
-- check: accepted_range(units_last_7d, min=0)
-- check: accepted_values(trend, 'rising', 'falling', 'steady', 'new', 'no_sales')
-- automation: eager
--
-- A day reads the 14 days of sales up to it (window(-13, 0)): last 7 days against the 7
-- before. In the first 13 days of the data the earlier week is short (is_full_window false).
with days as (
  select cast(unnest(generate_series({{ partition_start }}, {{ partition_end }} - interval 1 day, interval 1 day)) as date) as as_of_date
),
item_days as (
  -- Sales per item and day; an order has one business date, so daily order counts add up.
  select
    menu_item_id,
    business_date,
    sum(quantity) as units,
    sum(net_amount) as revenue,
    count(distinct order_id) as orders
  from marts.fct_sales
  where business_date >= {{ partition_start }} - interval 13 day and business_date < {{ partition_end }}
  group by menu_item_id, business_date
),
windowed as (
  select
    d.as_of_date,
    s.menu_item_id,
    sum(s.units) filter (where s.business_date > d.as_of_date - 7) as units_last_7d,
    sum(s.units) filter (where s.business_date <= d.as_of_date - 7) as units_prior_7d,
    sum(s.revenue) filter (where s.business_date > d.as_of_date - 7) as revenue_last_7d,
    sum(s.orders) filter (where s.business_date > d.as_of_date - 7) as orders_last_7d
  from days as d
  join item_days as s on s.business_date > d.as_of_date - 14 and s.business_date <= d.as_of_date
  group by d.as_of_date, s.menu_item_id
),
scored as (
  select
    m.menu_item_id,
    m.item_name,
    m.category_code,
    d.as_of_date,
    coalesce(w.units_last_7d, 0) as units_last_7d,
    coalesce(w.units_prior_7d, 0) as units_prior_7d,
    coalesce(w.revenue_last_7d, 0) as revenue_last_7d,
    coalesce(w.orders_last_7d, 0) as orders_last_7d,
    d.as_of_date - 13 >= date '2025-01-01' as is_full_window
  from marts.dim_menu_items as m
  cross join days as d
  left join windowed as w on w.menu_item_id = m.menu_item_id and w.as_of_date = d.as_of_date
)
select
  *,
  rank() over (partition by as_of_date order by units_last_7d desc) as popularity_rank,
  rank() over (partition by as_of_date, category_code order by units_last_7d desc) as category_rank,
  round(units_last_7d / nullif(units_prior_7d, 0) - 1, 4) as units_trend_pct,
  case
    when units_last_7d = 0 and units_prior_7d = 0 then 'no_sales'
    when units_prior_7d = 0 then 'new'
    when units_last_7d >= units_prior_7d * 1.1 then 'rising'
    when units_last_7d <= units_prior_7d * 0.9 then 'falling'
    else 'steady'
  end as trend
from scored
where as_of_date >= {{ partition_start }} and as_of_date < {{ partition_end }}
