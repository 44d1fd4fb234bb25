/**
 * The first schema: runs, the event log, materializations (with a latest copy per asset
 * partition), check results (with a latest copy per check and partition), lineage per
 * definition version, and the tables later features fill: backfills, schedule ticks, leases.
 */

import { sql } from '../kysely-runtime.ts';
import type { Kysely, Migration } from 'kysely';

/** Creates every table and index of the initial schema. */
async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('selection', 'text', (c) => c.notNull())
    .addColumn('asset_keys', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'integer')
    .addColumn('ended_at', 'integer')
    .addColumn('error', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('runs_created_at_idx').on('runs').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('runs_status_created_at_idx').on('runs').columns(['status', 'created_at', 'id']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('asset_key', 'text')
    .addColumn('partition_key', 'text')
    .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('events_run_id_id_idx').on('events').columns(['run_id', 'id']).execute();

  await db.schema
    .createTable('materializations')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('asset_key', 'text', (c) => c.notNull())
    .addColumn('partition_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('input_data_versions', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('row_count', 'integer')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('materializations_asset_partition_id_idx').on('materializations').columns(['asset_key', 'partition_key', 'id']).execute();

  // Keyed by (asset_key, partition_key) without a rowid: a bulk read is one ordered B-tree scan.
  await db.schema
    .createTable('latest_materializations')
    .addColumn('asset_key', 'text', (c) => c.notNull())
    .addColumn('partition_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('materialization_id', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addColumn('code_version', 'text', (c) => c.notNull())
    .addColumn('data_version', 'text', (c) => c.notNull())
    .addColumn('input_data_versions', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('row_count', 'integer')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addPrimaryKeyConstraint('latest_materializations_pk', ['asset_key', 'partition_key'])
    .modifyEnd(sql`without rowid`)
    .execute();

  await db.schema
    .createTable('check_results')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('run_id', 'text', (c) => c.references('runs.id'))
    .addColumn('asset_key', 'text', (c) => c.notNull())
    .addColumn('partition_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('check_name', 'text', (c) => c.notNull())
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('violations', 'integer', (c) => c.notNull())
    .addColumn('sample', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sql', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'real', (c) => c.notNull())
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('check_results_asset_id_idx').on('check_results').columns(['asset_key', 'id']).execute();

  await db.schema
    .createTable('latest_check_results')
    .addColumn('asset_key', 'text', (c) => c.notNull())
    .addColumn('check_name', 'text', (c) => c.notNull())
    .addColumn('partition_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('check_result_id', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('violations', 'integer', (c) => c.notNull())
    .addColumn('sample', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sql', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'real', (c) => c.notNull())
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_check_results_pk', ['asset_key', 'check_name', 'partition_key'])
    .modifyEnd(sql`without rowid`)
    .execute();

  await db.schema
    .createTable('definition_versions')
    .addColumn('version', 'text', (c) => c.primaryKey())
    .addColumn('recorded_at', 'integer', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable('asset_lineage')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('definition_version', 'text', (c) => c.notNull().references('definition_versions.version'))
    .addColumn('upstream', 'text', (c) => c.notNull())
    .addColumn('downstream', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('asset_lineage_edge_unique', ['definition_version', 'upstream', 'downstream'])
    .execute();

  await db.schema
    .createTable('backfills')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('selection', 'text', (c) => c.notNull())
    .addColumn('range_from', 'text', (c) => c.notNull())
    .addColumn('range_to', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('partition_state', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('backfills_status_created_at_idx').on('backfills').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('schedule_ticks')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('schedule_name', 'text', (c) => c.notNull())
    .addColumn('tick_timestamp', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('run_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('error', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('schedule_ticks_schedule_tick_unique', ['schedule_name', 'tick_timestamp'])
    .execute();

  await db.schema
    .createTable('leases')
    .addColumn('asset_key', 'text', (c) => c.notNull())
    .addColumn('partition_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
    .addColumn('acquired_at', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('leases_pk', ['asset_key', 'partition_key'])
    .execute();
  await db.schema.createIndex('leases_run_id_idx').on('leases').column('run_id').execute();
  await db.schema.createIndex('leases_expires_at_idx').on('leases').column('expires_at').execute();
}

/** Drops every table of the initial schema. */
async function down(db: Kysely<any>): Promise<void> {
  const tables = [
    'leases',
    'schedule_ticks',
    'backfills',
    'asset_lineage',
    'definition_versions',
    'latest_check_results',
    'check_results',
    'latest_materializations',
    'materializations',
    'events',
    'runs',
  ];
  for (const table of tables) await db.schema.dropTable(table).ifExists().execute();
}

/** Migration 0001: the initial schema. */
export const initialMigration: Migration = { up, down };
