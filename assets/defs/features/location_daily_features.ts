import { asset } from 'strata';
import { ANALYTICS } from '../../lib/owners.ts';

/** Trailing window of the rolling features, in days. */
const WINDOW_DAYS = 7;

/**
 * Features per location and business day for forecasting and anomaly models: the day's
 * sales, orders and labor, 7-day rolling revenue, orders, average ticket and labor cost
 * ratio, and the week-over-week revenue change. Every location gets a row for every day in
 * the data (zero when closed), so the windows always span calendar days.
 */
export const locationDailyFeatures = asset({
  key: 'features/location_daily_features',
  deps: ['marts/daily_revenue_by_location', 'marts/dim_locations', 'marts/labor_cost_by_location_daily'],
  group: 'features',
  owners: [ANALYTICS],
  tags: { domain: 'sales', model: 'demand_forecast' },
  description:
    `Per location and business day: net sales, orders, labor cost, ${WINDOW_DAYS}-day rolling revenue, orders, ` +
    'average ticket and labor cost ratio, and week-over-week revenue change. is_full_window is false for ' +
    `the first ${WINDOW_DAYS - 1} days of data.`,
  async materialize(ctx) {
    const revenue = ctx.warehouse.tableOf('marts/daily_revenue_by_location');
    const labor = ctx.warehouse.tableOf('marts/labor_cost_by_location_daily');
    const locations = ctx.warehouse.tableOf('marts/dim_locations');
    const rowCount = await ctx.warehouse.replaceTable(`
      with bounds as (
        select min(business_date) as first_day, max(business_date) as last_day from ${revenue}
      ),
      days as (
        select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as business_date
        from bounds
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
      )
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
      window w as (partition by location_id order by business_date rows between ${WINDOW_DAYS - 1} preceding and current row)`);
    return { rowCount, metadata: { window_days: WINDOW_DAYS } };
  },
});
