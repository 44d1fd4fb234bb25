/**
 * Freshness episodes in storage: the row mappers every implementation shares, the SQL one (the
 * same kysely queries on SQLite and Postgres) and the in-memory one, so values and ordering match.
 */

import type { Kysely } from 'kysely';
import type { FreshnessEpisode, FreshnessEpisodeStore } from './freshness-episode-store.ts';
import { normalizePage, slicePage } from './page.ts';
import type { Database, FreshnessEpisodesTable } from './schema.ts';
import type { EventRecord, Page } from './storage.ts';

type EpisodeRow = Omit<FreshnessEpisodesTable, 'id'> & { id: number };

/** The columns of a new episode opened by `event`. */
function episodeToRow(event: EventRecord): Omit<FreshnessEpisodesTable, 'id'> {
  return {
    asset_key: event.assetKey ?? '',
    partition_key: event.partition,
    run_id: event.runId,
    started_at: event.timestamp,
    ended_at: null,
    level: event.level,
    message: event.message,
    data: event.data === null ? null : JSON.stringify(event.data),
  };
}

/** A stored row as an episode, its event rebuilt. */
function episodeFromRow(row: EpisodeRow): FreshnessEpisode {
  const id = Number(row.id);
  return {
    id,
    assetKey: row.asset_key,
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    event: {
      id,
      runId: row.run_id,
      timestamp: Number(row.started_at),
      type: 'freshness_miss',
      level: row.level as EventRecord['level'],
      assetKey: row.asset_key,
      partition: row.partition_key,
      message: row.message,
      data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    },
  };
}

const byKey = (a: EpisodeRow, b: EpisodeRow) => (a.asset_key < b.asset_key ? -1 : a.asset_key > b.asset_key ? 1 : 0);

/** Freshness episodes through kysely: the same queries on SQLite and Postgres. */
export class SqlFreshnessEpisodes implements FreshnessEpisodeStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined> {
    // The partial unique index on open episodes makes a second open a no-op, even from another process.
    const row = await this.#db
      .insertInto('freshness_episodes')
      .values(episodeToRow(event))
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : episodeFromRow(row);
  }

  async endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.#db
      .updateTable('freshness_episodes')
      .set({ ended_at: now })
      .where('ended_at', 'is', null)
      .where('asset_key', 'in', [...keys])
      .returning('asset_key')
      .execute();
    return rows.map((r) => r.asset_key).sort();
  }

  async openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]> {
    if (keys !== undefined && keys.length === 0) return [];
    let query = this.#db.selectFrom('freshness_episodes').selectAll().where('ended_at', 'is', null);
    if (keys !== undefined) query = query.where('asset_key', 'in', [...keys]);
    return (await query.orderBy('asset_key').execute()).map(episodeFromRow);
  }

  async freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]> {
    const page = normalizePage(options);
    let query = this.#db.selectFrom('freshness_episodes').selectAll().where('asset_key', '=', key).orderBy('id', 'desc').offset(page.offset);
    // SQLite needs a LIMIT before an OFFSET; -1 is none there, a huge number on both.
    query = query.limit(page.limit ?? Number.MAX_SAFE_INTEGER);
    return (await query.execute()).map(episodeFromRow);
  }
}

/** Freshness episodes in a Map (tests). */
export class InMemoryFreshnessEpisodes implements FreshnessEpisodeStore {
  readonly #rows: EpisodeRow[] = [];

  async openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined> {
    const row = { ...episodeToRow(event), id: this.#rows.length + 1 };
    if (this.#rows.some((r) => r.asset_key === row.asset_key && r.ended_at === null)) return undefined;
    this.#rows.push(row);
    return episodeFromRow(row);
  }

  async endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]> {
    const wanted = new Set(keys);
    const ended = this.#rows.filter((r) => r.ended_at === null && wanted.has(r.asset_key));
    for (const row of ended) row.ended_at = now;
    return ended.map((r) => r.asset_key).sort();
  }

  async openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]> {
    const wanted = keys === undefined ? undefined : new Set(keys);
    return this.#rows
      .filter((r) => r.ended_at === null && (wanted === undefined || wanted.has(r.asset_key)))
      .sort(byKey)
      .map(episodeFromRow);
  }

  async freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]> {
    const rows = this.#rows.filter((r) => r.asset_key === key).reverse();
    return slicePage(rows, normalizePage(options)).map(episodeFromRow);
  }
}
