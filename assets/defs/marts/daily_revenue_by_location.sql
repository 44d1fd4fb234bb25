-- description: Revenue per location per business day: orders, guests, items, gross and net
-- description: sales, discounts, tax, tips, voids and average ticket. Aggregates each source
-- description: separately before joining, so nothing fans out.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=sales
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- backfill_policy: single_run
-- check: unique(location_id, business_date)
-- check: accepted_range(net_sales, min=0)
-- check: relationships(location_id, marts/dim_locations.location_id)
with sales as (
  select
    location_id,
    business_date,
    count(distinct order_id) as orders,
    sum(quantity) as items_sold,
    sum(gross_amount) as gross_sales,
    sum(discount_amount) as discounts,
    sum(net_amount) as net_sales
  from marts.fct_sales
  where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
  group by location_id, business_date
),
checks as (
  select
    location_id,
    business_date,
    count(*) filter (where is_voided) as voided_orders,
    coalesce(sum(guest_count) filter (where not is_voided), 0) as guests,
    coalesce(sum(tax_amount) filter (where not is_voided), 0) as tax_collected
  from staging.orders
  where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
  group by location_id, business_date
),
tips as (
  select
    o.location_id,
    o.business_date,
    sum(p.tip_amount) as tips
  from staging.payments as p
  join staging.orders as o on o.order_id = p.order_id
  where p.status = 'captured' and not o.is_voided
    and p.business_date >= {{ partition_start }} and p.business_date < {{ partition_end }}
    and o.business_date >= {{ partition_start }} and o.business_date < {{ partition_end }}
  group by o.location_id, o.business_date
)
select
  s.location_id,
  l.location_name,
  s.business_date,
  dayname(s.business_date) as day_of_week,
  s.orders,
  c.voided_orders,
  c.guests,
  s.items_sold,
  s.gross_sales,
  s.discounts,
  s.net_sales,
  c.tax_collected,
  coalesce(t.tips, 0) as tips,
  round(s.net_sales / s.orders, 2) as avg_ticket,
  round(s.net_sales / nullif(c.guests, 0), 2) as sales_per_guest
from sales as s
join checks as c on c.location_id = s.location_id and c.business_date = s.business_date
left join tips as t on t.location_id = s.location_id and t.business_date = s.business_date
left join marts.dim_locations as l on l.location_id = s.location_id
