-- description: The ids of the orders in the shop now (see raw/customer_ids): staging drops the
-- description: orders whose id is gone from here.
-- source: shop_db
-- deps: shop/orders
-- group: raw
-- check: unique(id)
select id from shop.orders
