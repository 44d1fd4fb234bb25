-- description: POS payments, one row per payment, typed and deduplicated. Payment types from
-- description: different terminals (CREDIT, Gift Card, cash) map to card, cash, gift_card.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=payments, source=pos
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
    _source_file
  from raw.payments
)
select * from typed
qualify row_number() over (partition by payment_id order by _source_file desc) = 1
