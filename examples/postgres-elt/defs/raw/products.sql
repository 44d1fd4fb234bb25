-- description: The shop's products, loaded incrementally from Postgres by updated_at, merged by id.
-- source: shop_db
-- deps: shop/products
-- materialization: incremental
-- unique_key: id
-- watermark: updated_at
-- group: raw
-- check: unique(id)
-- check: not_null(updated_at)
select id, name, category, price, updated_at
from shop.products
where updated_at > {{ watermark }}
