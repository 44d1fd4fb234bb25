-- description: POS orders, one row per order, typed and cleaned. An order that was still
-- description: open at export time is re-sent in the next day's file; the latest export wins.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=sales, source=pos
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- partition_mapping: raw/orders = window(0, 1)
-- backfill_policy: single_run
-- check: unique(order_id)
-- check: not_null(order_id)
-- check: not_null(location_id)
-- check: accepted_values(dining_option, 'dine_in', 'take_out', 'delivery') severity=warn
--
-- A business day's orders are in that day's file and, when re-sent, the next day's: the step
-- reads the files of its days plus one (window(0, 1)), keeps the latest export of each order,
-- and writes the orders of its own days. Every export of an order is read whatever the step's
-- range, so one day at a time gives the same rows as a whole year at once.
--
-- Timestamps are local wall-clock time of the location (see staging locations for the zone).
with typed as (
  select
    upper(trim(order_id)) as order_id,
    upper(trim(location_id)) as location_id,
    try_strptime(trim(business_date), '%Y%m%d')::date as business_date,
    try_cast(trim(opened_at) as timestamp) as opened_at,
    try_cast(nullif(trim(closed_at), '') as timestamp) as closed_at,
    replace(lower(trim(dining_option)), ' ', '_') as dining_option,
    upper(trim(server_id)) as server_id,
    try_cast(trim(guest_count) as integer) as guest_count,
    coalesce(try_cast(lower(trim(voided)) as boolean), false) as is_voided,
    coalesce(try_cast(trim(tax_amount) as decimal(10, 2)), 0) as tax_amount,
    _source_file,
    _file_date
  from raw.orders
  where _file_date >= {{ partition_start }} and _file_date < {{ partition_end }} + interval 1 day
),
latest as (
  select * exclude (_file_date)
  from typed
  qualify row_number() over (partition by order_id order by _file_date desc, closed_at desc nulls last) = 1
)
select
  *,
  closed_at is null and not is_voided as is_open
from latest
where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
