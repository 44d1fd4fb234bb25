-- description: The ids of the customers in the shop now: the live keys, a full (and cheap) extract
-- description: on every run. The incremental raw/customers never sees a hard delete; staging keeps
-- description: only the customers whose id is here.
-- source: shop_db
-- deps: shop/customers
-- group: raw
-- check: unique(id)
select id from shop.customers
