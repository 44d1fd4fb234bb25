import { asset } from 'strata';
import { ANALYTICS } from '../../lib/owners.ts';

/**
 * How guests paid, per location, business day and payment type: captured payments, amount,
 * tips and each type's share of the day's takings. Payments are dated by their order's
 * business date, so a check closed after midnight counts for the night it was opened.
 */
export const paymentMixDaily = asset({
  key: 'marts/payment_mix_daily',
  deps: ['staging/orders', 'staging/payments'],
  group: 'marts',
  owners: [ANALYTICS],
  tags: { domain: 'payments' },
  description:
    'Payment mix per location, business day and payment type (card, cash, gift_card): captured payments, ' +
    'amount, tips, average tip rate and share of the day’s amount.',
  async materialize(ctx) {
    const payments = ctx.warehouse.tableOf('staging/payments');
    const orders = ctx.warehouse.tableOf('staging/orders');
    const rowCount = await ctx.warehouse.replaceTable(`
      with captured as (
        select o.location_id, o.business_date, p.payment_type, p.amount, p.tip_amount
        from ${payments} as p
        join ${orders} as o on o.order_id = p.order_id
        where p.status = 'captured' and not o.is_voided
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
      group by location_id, business_date, payment_type`);

    const overall = await ctx.warehouse.all<{ payment_type: string; share: number }>(`
      select payment_type, round(sum(amount) / (select sum(amount) from ${ctx.table}), 4)::double as share
      from ${ctx.table}
      group by payment_type
      order by payment_type`);
    const shares = Object.fromEntries(overall.map((r) => [r.payment_type, r.share]));
    ctx.log.info(`payment mix over all days: ${JSON.stringify(shares)}`);
    return { rowCount, metadata: { share_by_payment_type: shares } };
  },
});
