-- description: The shop's customers, loaded incrementally from Postgres: each run asks Postgres
-- description: only for the rows whose updated_at is past the newest one already here (the
-- description: watermark) and merges them by id. A deleted customer stays here (see raw/customer_ids).
-- source: shop_db
-- deps: shop/customers
-- materialization: incremental
-- unique_key: id
-- watermark: updated_at
-- group: raw
-- check: unique(id)
-- check: not_null(updated_at)
select id, name, email, city, created_at, updated_at
from shop.customers
where updated_at > {{ watermark }}
