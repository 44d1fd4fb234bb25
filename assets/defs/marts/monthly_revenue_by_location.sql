-- description: Revenue per location per month, rolled up from the daily revenue: trading days,
-- description: orders, guests, items, gross and net sales, discounts, tax, tips, voids, average
-- description: ticket and average net sales per trading day.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=sales
-- partitioned_by: monthly(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: month_start
-- backfill_policy: single_run
--
-- A month reads every day of itself from the daily revenue: the default mapping between a
-- monthly and a daily asset, window(0, 0), gives a month all the days it overlaps.
select
  location_id,
  location_name,
  cast(date_trunc('month', business_date) as date) as month_start,
  count(*) as trading_days,
  sum(orders) as orders,
  sum(voided_orders) as voided_orders,
  sum(guests) as guests,
  sum(items_sold) as items_sold,
  sum(gross_sales) as gross_sales,
  sum(discounts) as discounts,
  sum(net_sales) as net_sales,
  sum(tax_collected) as tax_collected,
  sum(tips) as tips,
  round(sum(net_sales) / sum(orders), 2) as avg_ticket,
  round(sum(net_sales) / nullif(sum(guests), 0), 2) as sales_per_guest,
  round(sum(net_sales) / count(*), 2) as avg_daily_net_sales
from marts.daily_revenue_by_location
where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
group by location_id, location_name, month_start
