-- description: The shop's orders, loaded incrementally from Postgres by updated_at, merged by id:
-- description: a status change moves updated_at, so the order comes again and replaces its old row.
-- source: shop_db
-- deps: shop/orders
-- materialization: incremental
-- unique_key: id
-- watermark: updated_at
-- group: raw
-- check: unique(id)
-- check: not_null(updated_at)
select id, customer_id, product_id, quantity, unit_price, status, ordered_at, updated_at
from shop.orders
where updated_at > {{ watermark }}
