-- description: Every version of every customer (a type 2 slowly changing dimension): an edit
-- description: closes the current version and opens a new one; an erased customer's last version
-- description: is closed. Never rebuilt: --full-refresh leaves it alone unless --force names it.
-- group: snapshots
-- materialization: snapshot
-- unique_key: customer_id
-- snapshot_strategy: timestamp(updated_at)
-- invalidate_hard_deletes: true
select customer_id, name, email, city, updated_at
from staging.customers
