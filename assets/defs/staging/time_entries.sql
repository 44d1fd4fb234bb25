-- description: Time clock entries, one row per shift, with paid hours (clock-out minus
-- description: clock-in minus unpaid break). Paid hours are null when the clock-out is missing.
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=labor, source=pos, pii
-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=UTC)
-- partition_column: business_date
-- backfill_policy: single_run
--
-- A shift is exported in the file of the day it started, which is its business date.
with typed as (
  select
    upper(trim(time_entry_id)) as time_entry_id,
    upper(trim(location_id)) as location_id,
    upper(trim(employee_id)) as employee_id,
    trim(employee_name) as employee_name,
    replace(lower(trim(job_title)), ' ', '_') as job_code,
    try_cast(replace(trim(hourly_rate), '$', '') as decimal(10, 2)) as hourly_rate,
    try_cast(trim(clock_in) as timestamp) as clock_in,
    try_cast(nullif(trim(clock_out), '') as timestamp) as clock_out,
    coalesce(try_cast(trim(break_minutes) as integer), 0) as break_minutes,
    _source_file
  from raw.time_entries
  where _file_date >= {{ partition_start }} and _file_date < {{ partition_end }}
)
select
  time_entry_id,
  location_id,
  cast(clock_in as date) as business_date,
  employee_id,
  employee_name,
  job_code,
  case
    when job_code in ('server', 'bartender', 'host') then 'front_of_house'
    when job_code = 'manager' then 'management'
    else 'back_of_house'
  end as department,
  hourly_rate,
  clock_in,
  clock_out,
  break_minutes,
  cast((date_diff('minute', clock_in, clock_out) - break_minutes) / 60 as decimal(6, 2)) as paid_hours,
  clock_out is null as is_missing_clock_out,
  _source_file
from typed
where clock_in >= {{ partition_start }} and clock_in < {{ partition_end }}
qualify row_number() over (partition by time_entry_id order by _source_file desc) = 1
