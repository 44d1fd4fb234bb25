-- description: Labor per location per business day from the time clock: shifts, employees,
-- description: paid hours and cost, split front of house / back of house / management.
-- description: Shifts without a clock-out are counted in missing_clock_outs and cost nothing.
-- group: marts
-- owners: analytics@bistro.example
-- tags: domain=labor
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- backfill_policy: single_run
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
where business_date >= {{ partition_start }} and business_date < {{ partition_end }}
group by location_id, business_date
