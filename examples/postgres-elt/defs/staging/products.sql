-- description: Products, one row each.
-- group: staging
-- check: unique(product_id)
-- check: not_null(price)
-- check: accepted_values(category, 'coffee', 'tea', 'bakery', 'merch')
select id as product_id, trim(name) as name, category, price, updated_at
from raw.products
