-- description: POS payments, one row per payment, typed and deduplicated, dated by their
-- description: order's business date. Payment types from different terminals (CREDIT,
-- description: Gift Card, cash) map to card, cash, gift_card.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=payments, source=pos
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- partition_mapping: raw/payments = window(0, 1)
-- backfill_policy: single_run
-- check: unique(payment_id)
-- check: accepted_range(amount, min=0)
-- check: accepted_values(payment_type, 'card', 'cash', 'gift_card')
-- check: relationships(order_id, staging/orders.order_id)
-- check: custom_sql(payments_of_known_orders): select r.payment_id, r.order_id, r._file_date from raw.payments as r where r._file_date >= {{ partition_start }} and r._file_date < {{ partition_end }} and upper(trim(r.order_id)) not in (select upper(trim(o.order_id)) from raw.orders as o where o._file_date >= {{ partition_start }} - interval 1 day and o._file_date < {{ partition_end }})
--
-- An order still open at export time has its payments in the next day's file, with the
-- re-sent order: the step reads its days' files plus one. A payment belongs to its order's
-- business day (staging orders, same partitions), not to the day it was paid: a check closed
-- after midnight counts for the night it was opened.
with typed as (
  select
    upper(trim(payment_id)) as payment_id,
    upper(trim(order_id)) as order_id,
    upper(trim(location_id)) as location_id,
    try_cast(trim(paid_at) as timestamp) as paid_at,
    case regexp_replace(lower(payment_type), '[^a-z]', '', 'g')
      when 'credit' then 'card'
      when 'card' then 'card'
      when 'cash' then 'cash'
      when 'giftcard' then 'gift_card'
      else 'other'
    end as payment_type,
    nullif(lower(trim(card_brand)), '') as card_brand,
    try_cast(replace(trim(amount), '$', '') as decimal(10, 2)) as amount,
    coalesce(try_cast(replace(trim(tip_amount), '$', '') as decimal(10, 2)), 0) as tip_amount,
    lower(trim(status)) as status,
    _source_file,
    _file_date
  from raw.payments
  where _file_date >= {{ partition_start }} and _file_date < {{ partition_end }} + interval 1 day
),
latest as (
  select * exclude (_file_date)
  from typed
  qualify row_number() over (partition by payment_id order by _file_date desc, card_brand nulls last) = 1
)
select
  p.payment_id,
  p.order_id,
  p.location_id,
  o.business_date,
  p.paid_at,
  p.payment_type,
  p.card_brand,
  p.amount,
  p.tip_amount,
  p.status,
  p._source_file
from latest as p
join staging.orders as o on o.order_id = p.order_id
where o.business_date >= {{ partition_start }} and o.business_date < {{ partition_end }}
