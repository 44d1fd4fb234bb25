-- description: Orders the shop still has (raw/order_ids), with their amount and UTC order date.
-- group: staging
-- check: unique(order_id)
-- check: not_null(customer_id)
-- check: relationships(customer_id, staging/customers.customer_id)
-- check: relationships(product_id, staging/products.product_id)
-- check: accepted_values(status, 'placed', 'shipped', 'delivered', 'cancelled')
select id as order_id, customer_id, product_id, quantity, unit_price, quantity * unit_price as amount,
       status, ordered_at, timezone('UTC', ordered_at)::date as order_date, updated_at
from raw.orders
where id in (select id from raw.order_ids)
