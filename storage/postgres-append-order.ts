/**
 * Commit order = id order for the append-only tables of the Postgres storage (`events`,
 * `materializations` and `observations`, which share its sequence, `check_results`). A sequence
 * hands out ids when rows are inserted, not when they commit: with two writers, id 11 may commit
 * before id 10, and a reader tailing events `afterId` 10… would see 11 and never 10; the change
 * marker (the highest ids) would stay the same while 10 appears. So every transaction that
 * appends to those tables first takes one transaction-scoped advisory lock per storage schema,
 * before drawing ids, and holds it to its commit: appends of different processes commit one
 * after the other, in id order. (Appends of one storage are in order anyway, see
 * ./postgres-storage.ts.) Lock order, to stay free of deadlocks: lease rows first, then this lock.
 */

import { sql } from './kysely/kysely-runtime.ts';
import type { RawBuilder, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** First half of the advisory lock key: "St" + "Ap"; the second is the schema's hash. */
const APPEND_LOCK_CLASS = 0x5374_4170;

/** Transactions that hold the lock already (a second request would cost a round trip for nothing). */
const locked = new WeakSet<Transaction<Database>>();

/** A condition that takes the append lock when a statement first evaluates it (once: an uncorrelated subquery). */
export function appendLockCondition(): RawBuilder<boolean> {
  return sql<boolean>`(select pg_advisory_xact_lock(${sql.lit(APPEND_LOCK_CLASS)}, hashtext(current_schema()) & 2147483647)) is not null`;
}

/** Whether `trx` holds the append lock; `taken` records that it now does. */
export function holdsAppendLock(trx: Transaction<Database>, taken = false): boolean {
  if (taken) locked.add(trx);
  return locked.has(trx);
}

/** Takes the append lock of the storage's schema until `trx` ends (at once when it holds it already). */
export async function lockAppendOrder(trx: Transaction<Database>): Promise<void> {
  if (holdsAppendLock(trx)) return;
  await sql`select ${appendLockCondition()}`.execute(trx);
  holdsAppendLock(trx, true);
}
