import { asset } from 'strata';
import { ANALYTICS } from '../../lib/owners.ts';
import { DAILY, stepWindow } from '../../lib/partitions.ts';

/**
 * How guests paid, per location, business day and payment type: captured payments, amount,
 * tips and each type's share of the day's takings. Payments are dated by their order's
 * business date, so a check closed after midnight counts for the night it was opened.
 * Partitioned by business day like its inputs; a backfill writes a whole range in one step.
 */
export const paymentMixDaily = asset({
  key: 'marts/payment_mix_daily',
  deps: ['staging/orders', 'staging/payments'],
  partitions: DAILY,
  partitionColumn: 'business_date',
  backfillPolicy: { type: 'single_run' },
  group: 'marts',
  owners: [ANALYTICS],
  tags: { domain: 'payments' },
  description:
    'Payment mix per location, business day and payment type (card, cash, gift_card): captured payments, ' +
    'amount, tips, average tip rate and share of the day’s amount.',
  async materialize(ctx) {
    const { start, end, key } = stepWindow(ctx);
    const payments = ctx.warehouse.tableOf('staging/payments');
    const orders = ctx.warehouse.tableOf('staging/orders');
    // $1 and $2: the step's window, local wall-clock `YYYY-MM-DD HH:mm:ss`, end exclusive.
    const rowCount = await ctx.warehouse.replacePartitions(
      `
      with captured as (
        select p.location_id, p.business_date, p.payment_type, p.amount, p.tip_amount
        from ${payments} as p
        join ${orders} as o on o.order_id = p.order_id
        where p.status = 'captured' and not o.is_voided
          and p.business_date >= $1::timestamp and p.business_date < $2::timestamp
          and o.business_date >= $1::timestamp and o.business_date < $2::timestamp
      )
      select
        location_id,
        business_date,
        payment_type,
        count(*) as payments,
        sum(amount) as amount,
        sum(tip_amount) as tips,
        round(sum(tip_amount) / nullif(sum(amount), 0), 4) as tip_rate,
        round(sum(amount) / sum(sum(amount)) over (partition by location_id, business_date), 4) as share_of_amount
      from captured
      group by location_id, business_date, payment_type`,
      [start, end],
    );

    const overall = await ctx.warehouse.all<{ payment_type: string; share: number }>(
      `
      select payment_type, round(sum(amount) / sum(sum(amount)) over (), 4)::double as share
      from ${ctx.table}
      where business_date >= $1::timestamp and business_date < $2::timestamp
      group by payment_type
      order by payment_type`,
      [start, end],
    );
    const shares = Object.fromEntries(overall.map((r) => [r.payment_type, r.share]));
    ctx.log.info(`payment mix ${key}: ${JSON.stringify(shares)}`);
    return { rowCount, metadata: { share_by_payment_type: shares } };
  },
});
