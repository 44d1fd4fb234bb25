-- description: Customers with their order history: orders, revenue, first and last order.
-- group: marts
-- check: unique(customer_id)
-- check: not_null(email)
-- check: accepted_range(lifetime_revenue, min=0)
select c.customer_id, c.name, c.email, c.city, c.created_at,
       count(l.order_id) filter (where not l.is_cancelled) as orders,
       coalesce(sum(l.revenue), 0) as lifetime_revenue,
       min(l.order_date) as first_order_date,
       max(l.order_date) as last_order_date
from staging.customers as c
left join intermediate.order_lines as l using (customer_id)
group by all
