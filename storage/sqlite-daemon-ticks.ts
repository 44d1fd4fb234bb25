/**
 * The SQLite side of {@link DaemonTickStore}: `daemon_ticks` rows with JSON decisions and
 * `daemon_cursors`, queried with kysely. `SqliteStorage` delegates its tick methods here.
 */

import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { NotFoundError } from '../core/model/errors.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import { normalizePage } from './page.ts';
import type { DaemonTicksTable, Database } from './schema.ts';

type TickRow = Omit<DaemonTicksTable, 'id'> & { id: number };

/** A stored row as a tick record. */
export function daemonTickFromRow(row: TickRow): DaemonTickRecord {
  return {
    id: row.id,
    timestamp: row.timestamp,
    status: row.status as DaemonTickRecord['status'],
    decisions: JSON.parse(row.decisions) as DaemonTickRecord['decisions'],
    runIds: JSON.parse(row.run_ids) as string[],
    error: row.error,
    endedAt: row.ended_at,
  };
}

/** The columns an update sets (only the given fields). */
export function daemonTickUpdateToRow(update: DaemonTickUpdate): Partial<Omit<DaemonTicksTable, 'id'>> {
  const row: Partial<Omit<DaemonTicksTable, 'id'>> = {};
  if (update.status !== undefined) row.status = update.status;
  if (update.decisions !== undefined) row.decisions = JSON.stringify(update.decisions);
  if (update.runIds !== undefined) row.run_ids = JSON.stringify(update.runIds);
  if (update.error !== undefined) row.error = update.error;
  if (update.endedAt !== undefined) row.ended_at = update.endedAt;
  return row;
}

/** A new tick as the columns to insert. */
export function daemonTickToRow(tick: NewDaemonTick): Omit<DaemonTicksTable, 'id'> {
  return {
    timestamp: tick.timestamp,
    status: tick.status,
    decisions: JSON.stringify(tick.decisions),
    run_ids: JSON.stringify(tick.runIds),
    error: tick.error,
    ended_at: tick.endedAt,
  };
}

/** Daemon ticks in one SQLite database (`sqlite` is the connection `db` queries). */
export class SqliteDaemonTicks {
  readonly #db: Kysely<Database>;
  readonly #sqlite: BetterSqlite3.Database;

  constructor(db: Kysely<Database>, sqlite: BetterSqlite3.Database) {
    this.#db = db;
    this.#sqlite = sqlite;
  }

  async create(tick: NewDaemonTick): Promise<number> {
    const result = await this.#db.insertInto('daemon_ticks').values(daemonTickToRow(tick)).executeTakeFirstOrThrow();
    return Number(result.insertId);
  }

  async update(id: number, update: DaemonTickUpdate, cursors: Readonly<Record<string, string>> = {}): Promise<void> {
    const set = daemonTickUpdateToRow(update);
    const now = Date.now();
    const updateTick = Object.keys(set).length === 0 ? undefined : this.#db.updateTable('daemon_ticks').set(set).where('id', '=', id).compile();
    const exists = this.#db.selectFrom('daemon_ticks').select('id').where('id', '=', id).compile();
    const upserts = Object.entries(cursors).map(([name, value]) =>
      this.#db
        .insertInto('daemon_cursors')
        .values({ name, value, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
        .compile(),
    );
    this.#sqlite
      .transaction(() => {
        if (this.#sqlite.prepare(exists.sql).get(...exists.parameters) === undefined) throw new NotFoundError(`daemon tick ${id} does not exist`);
        if (updateTick) this.#sqlite.prepare(updateTick.sql).run(...updateTick.parameters);
        for (const upsert of upserts) this.#sqlite.prepare(upsert.sql).run(...upsert.parameters);
      })
      .immediate();
  }

  async get(id: number): Promise<DaemonTickRecord | undefined> {
    const row = await this.#db.selectFrom('daemon_ticks').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : daemonTickFromRow(row);
  }

  async list(options: { limit?: number; offset?: number } = {}): Promise<DaemonTickRecord[]> {
    const page = normalizePage(options);
    const rows = await this.#db
      .selectFrom('daemon_ticks')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(page.limit ?? -1)
      .offset(page.offset)
      .execute();
    return rows.map(daemonTickFromRow);
  }

  async cursors(): Promise<Record<string, string>> {
    const rows = await this.#db.selectFrom('daemon_cursors').select(['name', 'value']).orderBy('name').execute();
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
}
