-- description: POS orders, one row per order, typed and cleaned. An order that was still
-- description: open at export time is re-sent in the next day's file; the latest export wins.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=sales, source=pos
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
    _source_file
  from raw.orders
)
select
  *,
  closed_at is null and not is_voided as is_open
from typed
qualify row_number() over (partition by order_id order by _source_file desc) = 1
