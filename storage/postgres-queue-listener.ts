/**
 * Idle workers on Postgres storage wake at once: queueing a run sends `NOTIFY` in the
 * transaction that inserts it (a rolled-back run wakes nobody), so does a run ending while a run
 * is queued (it may free a slot a claim waited for), and a worker waiting for work `LISTEN`s on a connection of
 * its own. Notifications are per database, so the payload names the storage's schema and a
 * listener heeds only its own. A lost notification or a lost connection never strands a run:
 * the worker's poll goes on, and a listener that lost its connection reconnects and wakes its
 * waiters (news may have been missed meanwhile).
 */

import pg from 'pg';
import type { Kysely } from 'kysely';
import { sql } from './kysely/kysely-runtime.ts';
import { createRun, updateRun } from './postgres-record-queries.ts';
import type { QueueWake } from './queue-wake.ts';
import type { Database } from './schema.ts';
import { runEnded, type RunRecord, type RunUpdate } from './storage.ts';

/** The channel of queue news; the payload is the schema whose queue changed. */
export const QUEUE_CHANNEL = 'strata_queue';

/** The listen connection's `application_name` prefix (then the schema): find it in `pg_stat_activity`. */
export const LISTENER_APPLICATION = 'strata queue listener';

/** Tells the listeners of this storage's schema that a run may be claimable (sent when `db`'s transaction commits). */
export async function notifyQueue(db: Kysely<Database>): Promise<void> {
  await sql`select pg_notify(${QUEUE_CHANNEL}, current_schema())`.execute(db);
}

/** {@link notifyQueue} after a run ended: only when a run is queued (with none, an ending makes no claim possible). */
export async function notifyQueueIfQueued(db: Kysely<Database>): Promise<void> {
  await sql`select pg_notify(${QUEUE_CHANNEL}, current_schema())
    where exists (select 1 from runs where status = 'queued' and request is not null)`.execute(db);
}

/** `Storage.createRun`: a queued run with a request is news, sent in the transaction that inserts it (only if it commits). */
export async function createRunWithNews(db: Kysely<Database>, run: RunRecord): Promise<void> {
  if (run.status !== 'queued' || run.request == null) return createRun(db, run);
  await db.transaction().execute(async (trx) => {
    await createRun(trx, run);
    await notifyQueue(trx);
  });
}

/** `Storage.updateRun`: a run that ended may free what a worker's claim waited for. */
export async function updateRunWithNews(db: Kysely<Database>, id: string, update: RunUpdate): Promise<void> {
  await updateRun(db, id, update);
  if (update.status !== undefined && runEnded(update.status)) await notifyQueueIfQueued(db);
}

/** One waiter: resolves its wait. */
type Waiter = (woken: boolean) => void;

/**
 * The `LISTEN` side: connects on the first wait, and from then on keeps one connection listening
 * (reconnecting `retryMs` after losing it) until closed.
 */
export class PostgresQueueListener implements QueueWake {
  readonly #config: pg.ClientConfig;
  readonly #retryMs: number;
  readonly #waiters = new Set<Waiter>();
  /** News came while nobody waited: the next wait returns at once. */
  #pending = false;
  #client: pg.Client | undefined;
  #started = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  /** `config`: the storage's connection settings (its schema on the search path). */
  constructor(config: pg.ClientConfig, retryMs = 1_000) {
    this.#config = config;
    this.#retryMs = retryMs;
  }

  waitForQueued(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    if (!this.#started && !this.#closed) {
      this.#started = true;
      void this.#connect();
    }
    if (this.#pending || signal.aborted) {
      const woken = this.#pending && !signal.aborted;
      if (woken) this.#pending = false;
      return Promise.resolve(woken);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const onAbort = () => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      const done: Waiter = (woken) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiters.delete(done);
        resolve(woken);
      };
      this.#waiters.add(done);
    });
  }

  /** Stops listening; waits going on run to their timeout. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#config, keepAlive: true });
    this.#client = client;
    // An error ends the connection, and its 'end' reconnects.
    client.on('error', () => undefined);
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      const { rows } = await client.query<{ schema: string | null }>('select current_schema() as schema');
      const schema = rows[0]?.schema ?? '';
      const application = `${LISTENER_APPLICATION} ${schema}`.slice(0, 63).replaceAll("'", "''");
      await client.query(`set application_name = '${application}'`);
      client.on('notification', (message) => {
        if (message.channel === QUEUE_CHANNEL && message.payload === schema) this.#wake();
      });
      await client.query(`listen ${QUEUE_CHANNEL}`);
    } catch {
      this.#lost(client);
      await client.end().catch(() => undefined);
      return;
    }
    // Runs queued before the LISTEN (or while reconnecting) sent news nobody heard.
    if (this.#client === client) this.#wake();
  }

  /** The connection `client` ended or never came: connect again after a while, unless closed or already replaced. */
  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed) void this.#connect();
    }, this.#retryMs);
    this.#retry.unref();
  }

  /** Wakes every waiter, or the next one when nobody waits. */
  #wake(): void {
    if (this.#waiters.size === 0) this.#pending = true;
    for (const waiter of [...this.#waiters]) waiter(true);
  }
}
