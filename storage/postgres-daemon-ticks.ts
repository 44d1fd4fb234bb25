/**
 * The Postgres side of {@link DaemonTickStore}: the same `daemon_ticks` and `daemon_cursors`
 * rows as SQLite (the row mappers of ./sqlite-daemon-ticks.ts), a tick's update and its cursors
 * written in one transaction.
 */

import type { Kysely } from 'kysely';
import { NotFoundError } from '../core/model/errors.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import { normalizePage } from './page.ts';
import type { Database } from './schema.ts';
import { daemonTickFromRow, daemonTickToRow, daemonTickUpdateToRow } from './sqlite-daemon-ticks.ts';
import type { Page } from './storage.ts';

/** Daemon ticks in one Postgres database. */
export class PostgresDaemonTicks {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(tick: NewDaemonTick): Promise<number> {
    const row = await this.#db.insertInto('daemon_ticks').values(daemonTickToRow(tick)).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async update(id: number, update: DaemonTickUpdate, cursors: Readonly<Record<string, string>> = {}): Promise<void> {
    const set = daemonTickUpdateToRow(update);
    const now = Date.now();
    await this.#db.transaction().execute(async (trx) => {
      const found = await trx.selectFrom('daemon_ticks').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
      if (found === undefined) throw new NotFoundError(`daemon tick ${id} does not exist`);
      if (Object.keys(set).length > 0) await trx.updateTable('daemon_ticks').set(set).where('id', '=', id).execute();
      for (const [name, value] of Object.entries(cursors)) {
        await trx
          .insertInto('daemon_cursors')
          .values({ name, value, updated_at: now })
          .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
          .execute();
      }
    });
  }

  async get(id: number): Promise<DaemonTickRecord | undefined> {
    const row = await this.#db.selectFrom('daemon_ticks').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : daemonTickFromRow(row);
  }

  async list(options: Page = {}): Promise<DaemonTickRecord[]> {
    const page = normalizePage(options);
    const rows = await this.#db
      .selectFrom('daemon_ticks')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(page.limit ?? null)
      .offset(page.offset)
      .execute();
    return rows.map(daemonTickFromRow);
  }

  async cursors(): Promise<Record<string, string>> {
    const rows = await this.#db.selectFrom('daemon_cursors').select(['name', 'value']).orderBy('name').execute();
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
}
