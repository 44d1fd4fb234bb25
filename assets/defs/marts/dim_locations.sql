-- description: Location dimension for reports: one row per restaurant with its market,
-- description: time zone, seats, opening hours and sales tax rate.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=sales
-- materialization: view
--
-- A view, because the table is six rows and not worth storing twice.
select
  location_id,
  location_name,
  city || ', ' || state as market,
  city,
  state,
  timezone,
  opened_on,
  seats,
  opening_time,
  closing_time,
  round(date_diff('minute', opening_time, closing_time) / 60, 2) as open_hours_per_day,
  tax_rate
from staging.locations
