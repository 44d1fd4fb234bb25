/**
 * The daemon lock on Postgres: a session-level advisory lock taken on a connection of its own
 * (not the pool's), keyed by the storage's schema so two projects sharing a database each have
 * one. The server releases it the moment that connection ends, so when the holder dies (kill -9
 * included) a standby takes it on its next try. The connection's `application_name` names the
 * holder (`strata daemon <pid>@<host>`): a standby reads it from pg_locks + pg_stat_activity.
 * A holder whose connection errs, ends or does not answer a check within 5 s counts the lock as
 * lost; server-side TCP keepalives end the session of a host gone from the network in ~30 s, so
 * a standby can take over without two holders at any time.
 */

import pg from 'pg';
import type { DaemonLockAttempt, DaemonLockHolder, HeldDaemonLock } from './daemon-lock.ts';
import { unreachable, type PostgresSettings } from './postgres-connection.ts';

/** First half of the advisory lock key: "St" + "Dm"; the second is the schema's hash. */
const LOCK_CLASS = 0x5374_446d;
const LOCK_KEY = `${LOCK_CLASS}, hashtext(current_schema()) & 2147483647`;
const NAME_PREFIX = 'strata daemon ';
/** How long a liveness check of the lock may take before the lock counts as lost. */
const CHECK_TIMEOUT_MS = 5_000;

/** The holder's advisory lock, read from the server: the same key, granted, in this database. */
const HOLDER_QUERY = `select a.application_name as name, extract(epoch from a.backend_start) * 1000 as since,
    l.pid = pg_backend_pid() as mine
  from pg_locks l join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 2
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid = ${LOCK_CLASS}::oid and l.objid = (hashtext(current_schema()) & 2147483647)::oid`;

/**
 * Tries once to take the daemon lock of the storage `settings` point at, on a new connection
 * kept open while the lock is held (closed at once when it is not taken).
 */
export async function tryAcquirePostgresDaemonLock(settings: PostgresSettings, me: DaemonLockHolder): Promise<DaemonLockAttempt> {
  const client = new pg.Client({
    ...settings.pool,
    application_name: `${NAME_PREFIX}${me.pid}@${me.host}`.slice(0, 63),
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
  });
  // Until the lock is held: a failure surfaces from the query that meets it.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw unreachable(settings, error);
  }
  try {
    // If this host drops off the network, the server ends the session (and the lock) within ~30 s, not hours.
    await client.query('set tcp_keepalives_idle = 15; set tcp_keepalives_interval = 5; set tcp_keepalives_count = 3');
    const { rows } = await client.query<{ taken: boolean }>(`select pg_try_advisory_lock(${LOCK_KEY}) as taken`);
    if (rows[0]?.taken !== true) {
      const holder = await readHolder(client);
      await client.end();
      return { acquired: false, holder };
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return { acquired: true, lock: new PostgresDaemonLock(client) };
}

/** Who holds the lock, from its connection's application name and start. */
async function readHolder(client: pg.Client): Promise<DaemonLockHolder | undefined> {
  const { rows } = await client.query<{ name: string | null; since: number | null; mine: boolean }>(HOLDER_QUERY);
  const row = rows.find((r) => !r.mine);
  const match = row?.name?.startsWith(NAME_PREFIX) ? /^(\d+)@(.*)$/.exec(row.name.slice(NAME_PREFIX.length)) : null;
  if (!row || !match) return undefined;
  return { pid: Number(match[1]), host: match[2] ?? '', ...(row.since === null ? {} : { since: Math.round(row.since) }) };
}

/** The lock held on `client`'s session. */
class PostgresDaemonLock implements HeldDaemonLock {
  readonly #client: pg.Client;
  readonly #lost = new AbortController();
  #released = false;

  constructor(client: pg.Client) {
    this.#client = client;
    // The session is gone (killed, network lost, server restarted): so is its lock.
    client.on('error', () => this.#lose());
    client.on('end', () => {
      if (!this.#released) this.#lose();
    });
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async stillHeld(): Promise<boolean> {
    if (this.#lost.signal.aborted || this.#released) return false;
    try {
      const check = this.#client.query<{ mine: boolean }>(HOLDER_QUERY);
      const { rows } = await withTimeout(check, CHECK_TIMEOUT_MS);
      if (rows.some((r) => r.mine)) return true;
    } catch {
      // The connection is gone or hangs: the server may have released the lock already.
    }
    this.#lose();
    return false;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    // Ending the session releases its advisory locks.
    await this.#client.end().catch(() => undefined);
  }

  /** Marks the lock lost and closes its connection (so the server surely lets it go). */
  #lose(): void {
    if (this.#lost.signal.aborted) return;
    this.#lost.abort();
    void this.release();
  }
}

/** `promise`, or a rejection after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
