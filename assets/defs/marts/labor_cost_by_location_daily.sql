-- description: Labor per location per business day from the time clock: shifts, employees,
-- description: paid hours and cost, split front of house / back of house / management.
-- description: Shifts without a clock-out are counted in missing_clock_outs and cost nothing.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=labor
select
  location_id,
  business_date,
  count(*) as shifts,
  count(distinct employee_id) as employees,
  coalesce(sum(paid_hours), 0) as labor_hours,
  coalesce(sum(paid_hours * hourly_rate), 0) as labor_cost,
  coalesce(sum(paid_hours * hourly_rate) filter (where department = 'front_of_house'), 0) as foh_labor_cost,
  coalesce(sum(paid_hours * hourly_rate) filter (where department = 'back_of_house'), 0) as boh_labor_cost,
  coalesce(sum(paid_hours * hourly_rate) filter (where department = 'management'), 0) as management_labor_cost,
  count(*) filter (where is_missing_clock_out) as missing_clock_outs
from staging.time_entries
group by location_id, business_date
