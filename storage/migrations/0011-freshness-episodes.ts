/**
 * Freshness episodes: `freshness_episodes` holds one row per freshness miss episode of an asset,
 * with the `freshness_miss` event that opened it (level, message, partition, data as JSON, and
 * `run_id`: the daemon tick that raised it, `daemon-tick-<id>`, since the event belongs to no
 * run). A partial unique index keeps at most one open episode (`ended_at` null) per asset.
 */

import type { Kysely, Migration } from 'kysely';
import { sql } from '../kysely/kysely-runtime.ts';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates the table and its indexes. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .createTable('freshness_episodes')
    .addColumn('id', d.idType, d.id)
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text)
    .addColumn('run_id', d.text, (c) => c.notNull())
    .addColumn('started_at', d.integer, (c) => c.notNull())
    .addColumn('ended_at', d.integer)
    .addColumn('level', d.text, (c) => c.notNull())
    .addColumn('message', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('data', d.text)
    .execute();
  await db.schema
    .createIndex('freshness_episodes_open_idx')
    .on('freshness_episodes')
    .column('asset_key')
    .unique()
    .where(sql.ref('ended_at'), 'is', null)
    .execute();
  await db.schema.createIndex('freshness_episodes_asset_id_idx').on('freshness_episodes').columns(['asset_key', 'id']).execute();
}

/** Drops the table. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('freshness_episodes').ifExists().execute();
}

/** Migration 0011: freshness miss episodes. */
export function freshnessEpisodesMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
