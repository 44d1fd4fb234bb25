-- description: Every order with what the marts ask of it: the product's category, the customer's
-- description: city, and the revenue it counts for (none when cancelled).
-- group: intermediate
-- check: unique(order_id)
select o.order_id, o.order_date, o.ordered_at, o.customer_id, c.city, o.product_id, p.category,
       o.quantity, o.unit_price, o.status, o.status = 'cancelled' as is_cancelled,
       case when o.status = 'cancelled' then 0 else o.amount end as revenue
from staging.orders as o
join staging.customers as c using (customer_id)
join staging.products as p using (product_id)
