import { asset, eager, timeWindow } from 'strata';
import { ANALYTICS } from '../../lib/owners.ts';
import { DAILY, FIRST_DAY, stepWindow } from '../../lib/partitions.ts';

/** Trailing window of the rolling features, in days. */
const WINDOW_DAYS = 7;

/**
 * Features per location and business day for forecasting and anomaly models: the day's
 * sales, orders and labor, 7-day rolling revenue, orders, average ticket and labor cost
 * ratio, and the week-over-week revenue change. Every location gets a row for every day
 * (zero when closed), so the windows always span calendar days.
 *
 * A day reads the six days before it (window(-6, 0)) and, for the week-over-week change, the
 * revenue of the same weekday a week earlier (window(-7, 0)), so each day's row is the same
 * whether it is built alone or in a year-long backfill.
 */
export const locationDailyFeatures = asset({
  key: 'features/location_daily_features',
  deps: [
    { key: 'marts/daily_revenue_by_location', mapping: timeWindow({ startOffset: -WINDOW_DAYS, endOffset: 0 }) },
    { key: 'marts/labor_cost_by_location_daily', mapping: timeWindow({ startOffset: -(WINDOW_DAYS - 1), endOffset: 0 }) },
    'marts/dim_locations',
  ],
  partitions: DAILY,
  partitionColumn: 'business_date',
  backfillPolicy: { type: 'single_run' },
  // `assets daemon` rebuilds a day's features as soon as the marts it reads change.
  automation: eager(),
  group: 'features',
  owners: [ANALYTICS],
  tags: { domain: 'sales', model: 'demand_forecast' },
  description:
    `Per location and business day: net sales, orders, labor cost, ${WINDOW_DAYS}-day rolling revenue, orders, ` +
    'average ticket and labor cost ratio, and week-over-week revenue change. is_full_window is false for ' +
    `the first ${WINDOW_DAYS - 1} days of the data (${FIRST_DAY} on).`,
  async materialize(ctx) {
    const { start, end } = stepWindow(ctx);
    const revenue = ctx.warehouse.tableOf('marts/daily_revenue_by_location');
    const labor = ctx.warehouse.tableOf('marts/labor_cost_by_location_daily');
    const locations = ctx.warehouse.tableOf('marts/dim_locations');
    // $1, $2: the step's days [start, end); $3: the first day of data, before which nothing is read.
    const rowCount = await ctx.warehouse.replacePartitions(
      `
      with days as (
        select cast(unnest(generate_series(
          greatest($1::timestamp - interval ${WINDOW_DAYS} day, $3::timestamp),
          $2::timestamp - interval 1 day,
          interval 1 day
        )) as date) as business_date
      ),
      daily as (
        select
          l.location_id,
          d.business_date,
          coalesce(r.net_sales, 0) as net_sales,
          coalesce(r.orders, 0) as orders,
          coalesce(c.labor_cost, 0) as labor_cost
        from ${locations} as l
        cross join days as d
        left join ${revenue} as r on r.location_id = l.location_id and r.business_date = d.business_date
        left join ${labor} as c on c.location_id = l.location_id and c.business_date = d.business_date
      ),
      features as (
        select
          location_id,
          business_date,
          dayofweek(business_date) as day_of_week,
          net_sales,
          orders,
          labor_cost,
          round(labor_cost / nullif(net_sales, 0), 4) as labor_cost_ratio,
          sum(net_sales) over w as revenue_7d,
          sum(orders) over w as orders_7d,
          round(sum(net_sales) over w / nullif(sum(orders) over w, 0), 2) as avg_ticket_7d,
          round(sum(labor_cost) over w / nullif(sum(net_sales) over w, 0), 4) as labor_cost_ratio_7d,
          round(net_sales / nullif(lag(net_sales, ${WINDOW_DAYS}) over (partition by location_id order by business_date), 0) - 1, 4)
            as revenue_wow_change,
          count(*) over w = ${WINDOW_DAYS} as is_full_window
        from daily
        window w as (partition by location_id order by business_date rows between ${WINDOW_DAYS - 1} preceding and current row)
      )
      select * from features
      where business_date >= $1::timestamp and business_date < $2::timestamp`,
      [start, end, FIRST_DAY],
    );
    return { rowCount, metadata: { window_days: WINDOW_DAYS } };
  },
});
