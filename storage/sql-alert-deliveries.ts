/**
 * The SQL side of {@link AlertDeliveryStore}, the same statements on SQLite and Postgres: events
 * are added to the open group with one upsert on the partial unique index of pending groups, and
 * a claim is one `update … where status = 'pending' … returning`, which two processes never both
 * win (SQLite runs it alone; Postgres re-reads a row another transaction just claimed and skips it).
 */

import type { Kysely } from 'kysely';
import { sql } from './kysely/kysely-runtime.ts';
import type { AlertClaim, AlertDeliveryOutcome, AlertDeliveryRecord, AlertEventBatch } from './alert-delivery-store.ts';
import { normalizePage } from './page.ts';
import type { AlertDeliveriesTable, Database } from './schema.ts';
import type { Page } from './storage.ts';

type AlertRow = Omit<AlertDeliveriesTable, 'id'> & { id: number };

/** A stored row as a record. */
export function alertDeliveryFromRow(row: AlertRow): AlertDeliveryRecord {
  return {
    id: Number(row.id),
    rule: row.rule,
    kind: row.kind,
    assetKey: row.asset_key === '' ? null : row.asset_key,
    count: Number(row.count),
    firstAt: Number(row.first_at),
    lastAt: Number(row.last_at),
    firstPartition: row.first_partition,
    lastPartition: row.last_partition,
    dueAt: Number(row.due_at),
    sample: JSON.parse(row.sample) as Record<string, unknown>,
    status: row.status as AlertDeliveryRecord['status'],
    attempts: Number(row.attempts),
    lastError: row.last_error,
    updatedAt: row.updated_at === null ? null : Number(row.updated_at),
  };
}

/** A batch as the row that opens a group. */
export function alertBatchToRow(batch: AlertEventBatch): Omit<AlertDeliveriesTable, 'id'> {
  return {
    rule: batch.rule,
    kind: batch.kind,
    asset_key: batch.assetKey ?? '',
    count: batch.count,
    first_at: batch.firstAt,
    last_at: batch.lastAt,
    first_partition: batch.firstPartition,
    last_partition: batch.lastPartition,
    due_at: batch.dueAt,
    sample: JSON.stringify(batch.sample),
    status: 'pending',
    attempts: 0,
    last_error: null,
    updated_at: null,
  };
}

/** Alert deliveries in one SQLite or Postgres database. */
export class SqlAlertDeliveries {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async record(batch: AlertEventBatch): Promise<void> {
    await this.#db
      .insertInto('alert_deliveries')
      .values(alertBatchToRow(batch))
      .onConflict((oc) =>
        oc
          .columns(['rule', 'kind', 'asset_key'])
          // A literal, not a parameter: the database matches it against the partial index's predicate.
          .where(sql<boolean>`status = 'pending'`)
          .doUpdateSet({
            count: sql`alert_deliveries.count + excluded.count`,
            first_at: sql`case when excluded.first_at < alert_deliveries.first_at then excluded.first_at else alert_deliveries.first_at end`,
            last_at: sql`case when excluded.last_at > alert_deliveries.last_at then excluded.last_at else alert_deliveries.last_at end`,
            first_partition: sql`case when alert_deliveries.first_partition is null or excluded.first_partition < alert_deliveries.first_partition then coalesce(excluded.first_partition, alert_deliveries.first_partition) else alert_deliveries.first_partition end`,
            last_partition: sql`case when alert_deliveries.last_partition is null or excluded.last_partition > alert_deliveries.last_partition then coalesce(excluded.last_partition, alert_deliveries.last_partition) else alert_deliveries.last_partition end`,
          }),
      )
      .execute();
  }

  async claim(claim: AlertClaim): Promise<AlertDeliveryRecord[]> {
    if (claim.rules.length === 0) return [];
    const rows = await this.#db
      .updateTable('alert_deliveries')
      .set({ status: 'sending', updated_at: claim.now })
      .where('rule', 'in', [...claim.rules])
      .where((eb) => {
        const pending = claim.all ? eb('status', '=', 'pending') : eb.and([eb('status', '=', 'pending'), eb('due_at', '<=', claim.now)]);
        if (claim.staleBefore === undefined) return pending;
        return eb.or([pending, eb.and([eb('status', '=', 'sending'), eb('updated_at', '<', claim.staleBefore)])]);
      })
      .returningAll()
      .execute();
    return rows.map(alertDeliveryFromRow).sort((a, b) => a.id - b.id);
  }

  async finish(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    await this.#db
      .updateTable('alert_deliveries')
      .set({ status: outcome.status, attempts: outcome.attempts, last_error: outcome.lastError, updated_at: outcome.at })
      .where('id', '=', id)
      .execute();
  }

  async list(options: Page = {}): Promise<AlertDeliveryRecord[]> {
    const page = normalizePage(options);
    let query = this.#db.selectFrom('alert_deliveries').selectAll().orderBy('id', 'desc').offset(page.offset);
    query = query.limit(page.limit ?? 1_000_000_000);
    return (await query.execute()).map(alertDeliveryFromRow);
  }
}
