-- description: Customers as the shop has them now: names trimmed, e-mails lower-cased, and only
-- description: the ids Postgres still has (raw/customer_ids), so an erased customer is gone here.
-- group: staging
-- check: unique(customer_id)
-- check: not_null(customer_id)
-- check: not_null(email)
select id as customer_id, trim(name) as name, lower(trim(email)) as email, city, created_at, updated_at
from raw.customers
where id in (select id from raw.customer_ids)
