-- description: Restaurants of the group, one row per location, with time zone, opening hours
-- description: and sales tax rate.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=sales, source=pos
select
  upper(trim(location_id)) as location_id,
  trim(location_name) as location_name,
  trim(city) as city,
  upper(trim(state)) as state,
  trim(timezone) as timezone,
  try_cast(trim(opened_on) as date) as opened_on,
  try_cast(trim(seats) as integer) as seats,
  try_cast(trim(opening_time) as time) as opening_time,
  try_cast(trim(closing_time) as time) as closing_time,
  try_cast(trim(tax_rate) as decimal(6, 4)) as tax_rate,
  _source_file
from raw.locations
qualify row_number() over (partition by upper(trim(location_id)) order by _source_file desc) = 1
