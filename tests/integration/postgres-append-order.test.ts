/**
 * Postgres storage shared by several writers, read live: a reader tailing a run's events with
 * `afterId` never skips a committed event (ids are committed in order), and the change marker
 * never stays the same while what it stands for changes (it counts committed rows only). The
 * writers are storages with pools of their own, as other processes would be.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import type { EventRecord } from '../../storage/index.ts';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';
import { aMaterialization, anEvent, aRun } from './storage-fixtures.ts';

const missing = postgresMissing();
const SCHEMA = `append_order_${process.pid}`;
const WRITERS = 4;
const COMMITS = 40;

function schemaUrl(): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

/** `WRITERS` storages each committing `COMMITS` steps of run `r1` (events and a materialization), all at once. */
async function writeConcurrently(writers: readonly PostgresStorage[]): Promise<void> {
  await Promise.all(
    writers.map(async (storage, w) => {
      for (let i = 0; i < COMMITS; i++) {
        await storage.commitStep({
          events: Array.from({ length: 3 }, (_, e) => anEvent('r1', `w${w} step ${i} event ${e}`)),
          materializations: Array.from({ length: 20 }, (_, m) => aMaterialization('r1', `w${w}/asset_${m}`, `p${i}`)),
        });
      }
    }),
  );
}

describe.skipIf(missing !== undefined)(`Postgres storage with concurrent writers${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let writers: PostgresStorage[] = [];
  let reader: PostgresStorage;

  beforeAll(async () => {
    await onPostgres(`drop schema if exists ${SCHEMA} cascade`, `create schema ${SCHEMA}`);
    reader = await PostgresStorage.open(schemaUrl());
    writers = await Promise.all(Array.from({ length: WRITERS }, () => PostgresStorage.open(schemaUrl())));
  });

  afterAll(async () => {
    for (const storage of [reader, ...writers]) await storage?.close();
    await onPostgres(`drop schema if exists ${SCHEMA} cascade`);
  });

  it('a reader tailing events with afterId sees every committed event, none skipped', async () => {
    await reader.createRun(aRun('r1', { status: 'running', startedAt: 1 }));
    const tailed: EventRecord[] = [];
    let writing = true;
    const tail = (async () => {
      for (;;) {
        const last = tailed.at(-1)?.id;
        const done = !writing;
        tailed.push(...(await reader.listEvents('r1', last === undefined ? {} : { afterId: last })));
        if (done) return;
      }
    })();
    await writeConcurrently(writers);
    writing = false;
    await tail;
    const all = await reader.listEvents('r1');
    expect(all).toHaveLength(WRITERS * COMMITS * 3);
    const missed = all.filter((e) => !tailed.some((t) => t.id === e.id)).map((e) => e.id);
    expect(missed).toEqual([]);
    expect(tailed.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it('the change marker moves when an event commits, not when its id is drawn', async () => {
    // A writer in the middle of its transaction: its event has an id, and is not committed yet.
    const writer = new pg.Client({ connectionString: schemaUrl() });
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(`insert into events (run_id, timestamp, type, level, message) values ('r1', 1, 'log', 'info', 'in flight')`);
      const during = await reader.changeMarker();
      const seen = (await reader.listEvents('r1')).length;
      await writer.query('commit');
      expect((await reader.listEvents('r1')).length).toBe(seen + 1);
      // A reader that kept what it read under `during` must see that storage changed.
      expect(await reader.changeMarker()).not.toBe(during);
    } finally {
      await writer.end();
    }
  });
});
