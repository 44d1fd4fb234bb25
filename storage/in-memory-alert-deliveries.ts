/**
 * The in-memory side of {@link AlertDeliveryStore}, keeping the same rows as SQL (through the
 * row mappers of ./sql-alert-deliveries.ts) so values and ordering match. `InMemoryStorage`
 * delegates its alert methods here.
 */

import type { AlertClaim, AlertDeliveryOutcome, AlertDeliveryRecord, AlertEventBatch } from './alert-delivery-store.ts';
import { normalizePage, slicePage } from './page.ts';
import type { AlertDeliveriesTable } from './schema.ts';
import { alertBatchToRow, alertDeliveryFromRow } from './sql-alert-deliveries.ts';
import type { Page } from './storage.ts';

type AlertRow = Omit<AlertDeliveriesTable, 'id'> & { id: number };

/** The smaller (or larger) of two optional partitions, a missing one losing. */
function pickPartition(a: string | null, b: string | null, smaller: boolean): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return (smaller ? b < a : b > a) ? b : a;
}

/** Alert groups in a Map. */
export class InMemoryAlertDeliveries {
  readonly #rows = new Map<number, AlertRow>();
  #lastId = 0;

  async record(batch: AlertEventBatch): Promise<void> {
    const key = batch.assetKey ?? '';
    const open = [...this.#rows.values()].find((r) => r.status === 'pending' && r.rule === batch.rule && r.kind === batch.kind && r.asset_key === key);
    if (open === undefined) {
      const id = ++this.#lastId;
      this.#rows.set(id, { ...alertBatchToRow(batch), id });
      return;
    }
    open.count += batch.count;
    open.first_at = Math.min(open.first_at, batch.firstAt);
    open.last_at = Math.max(open.last_at, batch.lastAt);
    open.first_partition = pickPartition(open.first_partition, batch.firstPartition, true);
    open.last_partition = pickPartition(open.last_partition, batch.lastPartition, false);
  }

  async claim(claim: AlertClaim): Promise<AlertDeliveryRecord[]> {
    const claimed: AlertDeliveryRecord[] = [];
    for (const row of this.#rows.values()) {
      if (!claim.rules.includes(row.rule)) continue;
      const pending = row.status === 'pending' && (claim.all === true || row.due_at <= claim.now);
      const stale = row.status === 'sending' && claim.staleBefore !== undefined && (row.updated_at ?? 0) < claim.staleBefore;
      if (!pending && !stale) continue;
      row.status = 'sending';
      row.updated_at = claim.now;
      claimed.push(alertDeliveryFromRow(row));
    }
    return claimed.sort((a, b) => a.id - b.id);
  }

  async finish(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    const row = this.#rows.get(id);
    if (row === undefined) return;
    Object.assign(row, { status: outcome.status, attempts: outcome.attempts, last_error: outcome.lastError, updated_at: outcome.at });
  }

  async list(options: Page = {}): Promise<AlertDeliveryRecord[]> {
    const rows = [...this.#rows.values()].sort((a, b) => b.id - a.id);
    return slicePage(rows, normalizePage(options)).map(alertDeliveryFromRow);
  }
}
