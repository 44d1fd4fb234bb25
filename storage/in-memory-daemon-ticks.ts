/**
 * The in-memory side of {@link DaemonTickStore}, keeping the same rows as SQLite (through the
 * row mappers of ./sqlite-daemon-ticks.ts) so values and ordering match. `InMemoryStorage`
 * delegates its tick methods here.
 */

import { NotFoundError } from '../core/model/errors.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import { normalizePage, slicePage } from './page.ts';
import type { DaemonTicksTable } from './schema.ts';
import { daemonTickFromRow, daemonTickToRow, daemonTickUpdateToRow } from './sqlite-daemon-ticks.ts';

type TickRow = Omit<DaemonTicksTable, 'id'> & { id: number };

/** Daemon ticks and cursors in Maps. */
export class InMemoryDaemonTicks {
  readonly #ticks = new Map<number, TickRow>();
  readonly #cursors = new Map<string, string>();
  #lastId = 0;

  async create(tick: NewDaemonTick): Promise<number> {
    const id = ++this.#lastId;
    this.#ticks.set(id, { ...daemonTickToRow(tick), id });
    return id;
  }

  async update(id: number, update: DaemonTickUpdate, cursors: Readonly<Record<string, string>> = {}): Promise<void> {
    const row = this.#ticks.get(id);
    if (row === undefined) throw new NotFoundError(`daemon tick ${id} does not exist`);
    Object.assign(row, daemonTickUpdateToRow(update));
    for (const [name, value] of Object.entries(cursors)) this.#cursors.set(name, value);
  }

  async get(id: number): Promise<DaemonTickRecord | undefined> {
    const row = this.#ticks.get(id);
    return row === undefined ? undefined : daemonTickFromRow(row);
  }

  async list(options: { limit?: number; offset?: number } = {}): Promise<DaemonTickRecord[]> {
    const rows = [...this.#ticks.values()].sort((a, b) => b.id - a.id);
    return slicePage(rows, normalizePage(options)).map(daemonTickFromRow);
  }

  async cursors(): Promise<Record<string, string>> {
    const names = [...this.#cursors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(names.map((name) => [name, this.#cursors.get(name) as string]));
  }
}
