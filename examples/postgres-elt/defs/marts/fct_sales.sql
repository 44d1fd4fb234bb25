-- description: Sales: one row per order that was not cancelled.
-- group: marts
-- check: unique(order_id)
-- check: not_null(order_date)
-- check: accepted_range(revenue, min=0)
-- check: relationships(customer_id, marts/dim_customers.customer_id)
select order_id, order_date, customer_id, city, product_id, category, quantity, unit_price, revenue, status
from intermediate.order_lines
where not is_cancelled
