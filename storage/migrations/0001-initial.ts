/**
 * The first schema: runs, the event log, materializations (with a latest copy per asset
 * partition), check results (with a latest copy per check and partition), lineage per
 * definition version, and the tables later features fill: backfills, schedule ticks, leases.
 */

import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/** Creates every table and index of the initial schema. */
async function up(db: Kysely<any>, d: SchemaDialect): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('trigger', d.text, (c) => c.notNull())
    .addColumn('selection', d.text, (c) => c.notNull())
    .addColumn('asset_keys', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', d.integer, (c) => c.notNull())
    .addColumn('started_at', d.integer)
    .addColumn('ended_at', d.integer)
    .addColumn('error', d.text)
    .addColumn('tags', d.text, (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('runs_created_at_idx').on('runs').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('runs_status_created_at_idx').on('runs').columns(['status', 'created_at', 'id']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', d.idType, d.id)
    .addColumn('run_id', d.text, (c) => c.notNull().references('runs.id'))
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('type', d.text, (c) => c.notNull())
    .addColumn('level', d.text, (c) => c.notNull())
    .addColumn('asset_key', d.text)
    .addColumn('partition_key', d.text)
    .addColumn('message', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('data', d.text)
    .execute();
  await db.schema.createIndex('events_run_id_id_idx').on('events').columns(['run_id', 'id']).execute();

  await db.schema
    .createTable('materializations')
    .addColumn('id', d.idType, d.id)
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('run_id', d.text, (c) => c.notNull().references('runs.id'))
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('code_version', d.text, (c) => c.notNull())
    .addColumn('data_version', d.text, (c) => c.notNull())
    .addColumn('input_data_versions', d.text, (c) => c.notNull().defaultTo('{}'))
    .addColumn('row_count', d.integer)
    .addColumn('metadata', d.text, (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('materializations_asset_partition_id_idx').on('materializations').columns(['asset_key', 'partition_key', 'id']).execute();

  // Keyed by (asset_key, partition_key) without a rowid: a bulk read is one ordered B-tree scan.
  await db.schema
    .createTable('latest_materializations')
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('materialization_id', d.integer, (c) => c.notNull())
    .addColumn('run_id', d.text, (c) => c.notNull())
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addColumn('code_version', d.text, (c) => c.notNull())
    .addColumn('data_version', d.text, (c) => c.notNull())
    .addColumn('input_data_versions', d.text, (c) => c.notNull().defaultTo('{}'))
    .addColumn('row_count', d.integer)
    .addColumn('metadata', d.text, (c) => c.notNull().defaultTo('{}'))
    .addPrimaryKeyConstraint('latest_materializations_pk', ['asset_key', 'partition_key'])
    .$call(d.keyedTable)
    .execute();

  await db.schema
    .createTable('check_results')
    .addColumn('id', d.idType, d.id)
    .addColumn('run_id', d.text, (c) => c.references('runs.id'))
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('check_name', d.text, (c) => c.notNull())
    .addColumn('passed', d.integer, (c) => c.notNull())
    .addColumn('severity', d.text, (c) => c.notNull())
    .addColumn('violations', d.integer, (c) => c.notNull())
    .addColumn('sample', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('sql', d.text, (c) => c.notNull())
    .addColumn('duration_ms', d.real, (c) => c.notNull())
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('check_results_asset_id_idx').on('check_results').columns(['asset_key', 'id']).execute();

  await db.schema
    .createTable('latest_check_results')
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('check_name', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('check_result_id', d.integer, (c) => c.notNull())
    .addColumn('run_id', d.text)
    .addColumn('passed', d.integer, (c) => c.notNull())
    .addColumn('severity', d.text, (c) => c.notNull())
    .addColumn('violations', d.integer, (c) => c.notNull())
    .addColumn('sample', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('sql', d.text, (c) => c.notNull())
    .addColumn('duration_ms', d.real, (c) => c.notNull())
    .addColumn('timestamp', d.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_check_results_pk', ['asset_key', 'check_name', 'partition_key'])
    .$call(d.keyedTable)
    .execute();

  await db.schema
    .createTable('definition_versions')
    .addColumn('version', d.text, (c) => c.primaryKey())
    .addColumn('recorded_at', d.integer, (c) => c.notNull())
    .addColumn('ordinal', d.integer, (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable('asset_lineage')
    .addColumn('id', d.idType, d.id)
    .addColumn('definition_version', d.text, (c) => c.notNull().references('definition_versions.version'))
    .addColumn('upstream', d.text, (c) => c.notNull())
    .addColumn('downstream', d.text, (c) => c.notNull())
    .addColumn('recorded_at', d.integer, (c) => c.notNull())
    .addUniqueConstraint('asset_lineage_edge_unique', ['definition_version', 'upstream', 'downstream'])
    .execute();

  await db.schema
    .createTable('backfills')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('selection', d.text, (c) => c.notNull())
    .addColumn('range_from', d.text, (c) => c.notNull())
    .addColumn('range_to', d.text, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('partition_state', d.text, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', d.integer, (c) => c.notNull())
    .addColumn('updated_at', d.integer, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('backfills_status_created_at_idx').on('backfills').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('schedule_ticks')
    .addColumn('id', d.idType, d.id)
    .addColumn('schedule_name', d.text, (c) => c.notNull())
    .addColumn('tick_timestamp', d.integer, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('run_ids', d.text, (c) => c.notNull().defaultTo('[]'))
    .addColumn('error', d.text)
    .addColumn('created_at', d.integer, (c) => c.notNull())
    .addUniqueConstraint('schedule_ticks_schedule_tick_unique', ['schedule_name', 'tick_timestamp'])
    .execute();

  await db.schema
    .createTable('leases')
    .addColumn('asset_key', d.text, (c) => c.notNull())
    .addColumn('partition_key', d.text, (c) => c.notNull().defaultTo(''))
    .addColumn('run_id', d.text, (c) => c.notNull().references('runs.id'))
    .addColumn('acquired_at', d.integer, (c) => c.notNull())
    .addColumn('expires_at', d.integer, (c) => c.notNull())
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

/** Migration 0001: the initial schema, in dialect `d`. */
export function initialMigration(d: SchemaDialect): Migration {
  return { up: (db) => up(db, d), down };
}
