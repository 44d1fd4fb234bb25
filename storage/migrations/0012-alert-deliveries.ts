/**
 * Alert deliveries: `alert_deliveries` holds one row per group of alert events (rule, kind,
 * asset; `asset_key` is `''` for none), with its count, time and partition range, a sample
 * event (JSON) and how its one delivery went. A partial unique index keeps one open (`pending`)
 * group per key, which events from every process add to.
 */

import type { Kysely, Migration } from 'kysely';
import { sql } from '../kysely/kysely-runtime.ts';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates the table and its indexes. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .createTable('alert_deliveries')
    .addColumn('id', d.idType, d.id)
    .addColumn('rule', d.text, (c) => c.notNull())
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('count', d.integer, (c) => c.notNull())
    .addColumn('first_at', d.integer, (c) => c.notNull())
    .addColumn('last_at', d.integer, (c) => c.notNull())
    .addColumn('first_partition', d.text)
    .addColumn('last_partition', d.text)
    .addColumn('due_at', d.integer, (c) => c.notNull())
    .addColumn('sample', d.text, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('attempts', d.integer, (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', d.text)
    .addColumn('updated_at', d.integer)
    .execute();
  await db.schema
    .createIndex('alert_deliveries_open')
    .on('alert_deliveries')
    .columns(['rule', 'kind', 'asset_key'])
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['status', 'due_at']).execute();
}

/** Drops the table. */
async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('alert_deliveries').ifExists().execute();
}

/** Migration 0012: alert groups and their deliveries. */
export function alertDeliveriesMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
