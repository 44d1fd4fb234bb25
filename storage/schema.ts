/**
 * Row types of the SQL tables, as kysely sees them. JSON columns hold text and are parsed
 * on read; `partition_key` is `''` for unpartitioned assets (the API maps it to `null`);
 * booleans are stored as 0/1 integers. Migrations in ./migrations create these tables.
 */

import type { Generated } from 'kysely';

/** `runs`: one row per run. */
export interface RunsTable {
  id: string;
  status: string;
  trigger: string;
  selection: string;
  /** JSON array of asset keys. */
  asset_keys: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
  /** JSON object of string tags. */
  tags: string;
  /** Last heartbeat of the run's process (migration 0004). */
  heartbeat_at: number | null;
  /** Process id of the run (migration 0004). */
  pid: number | null;
  /** JSON object: what a queued run needs to run, for a worker (migration 0007); null for runs started in-process. */
  request: string | null;
  /** JSON array: the pools a queued run holds a slot of while it runs (migration 0010); null: none recorded. */
  pools: string | null;
}

/** `events`: the append-only event log; `id` is assigned on insert and only grows. */
export interface EventsTable {
  id: Generated<number>;
  run_id: string;
  timestamp: number;
  type: string;
  level: string;
  asset_key: string | null;
  partition_key: string | null;
  message: string;
  /** JSON object, or null. */
  data: string | null;
}

/** Columns shared by `materializations` and its latest-per-partition copy. */
interface MaterializationColumns {
  asset_key: string;
  /** `''` means unpartitioned. */
  partition_key: Generated<string>;
  run_id: string;
  timestamp: number;
  code_version: string;
  data_version: string;
  /** JSON object: upstream key (or `key@partition`) → data version. */
  input_data_versions: string;
  row_count: number | null;
  /** JSON object. */
  metadata: string;
  /** Data sequence number when the step read its inputs (migration 0003). */
  read_seq: number;
  /** Hash of the asset's dependency keys when built; `''` when unknown (migration 0003). */
  deps_version: string;
}

/** `materializations`: one row per successful write of one asset partition. */
export interface MaterializationsTable extends MaterializationColumns {
  id: Generated<number>;
}

/**
 * `latest_materializations`: a copy of the newest materialization of every asset partition,
 * keyed by (asset_key, partition_key), so staleness reads it in bulk without joins.
 */
export interface LatestMaterializationsTable extends MaterializationColumns {
  /** Id of the copied `materializations` row. */
  materialization_id: number;
  /** `code_version || ' ' || deps_version`, for the staleness index (migration 0003). */
  version_key: string;
}

/** Columns shared by `check_results` and its latest copy. */
interface CheckResultColumns {
  run_id: string | null;
  asset_key: string;
  partition_key: Generated<string>;
  check_name: string;
  /** 1 when passed, 0 when not. */
  passed: number;
  severity: string;
  violations: number;
  /** JSON array of sample rows. */
  sample: string;
  sql: string;
  duration_ms: number;
  timestamp: number;
  /** Why the check could not run; `null` when it ran (migration 0006). */
  error: string | null;
}

/** `check_results`: every check outcome. */
export interface CheckResultsTable extends CheckResultColumns {
  id: Generated<number>;
}

/** `latest_check_results`: the newest outcome per (asset_key, check_name, partition_key). */
export interface LatestCheckResultsTable extends CheckResultColumns {
  check_result_id: number;
}

/** `definition_versions`: every recorded definition version; highest `ordinal` is latest. */
export interface DefinitionVersionsTable {
  version: string;
  recorded_at: number;
  ordinal: number;
}

/** `asset_lineage`: dependency edges per definition version. */
export interface AssetLineageTable {
  id: Generated<number>;
  definition_version: string;
  upstream: string;
  downstream: string;
  recorded_at: number;
  /** `data` or `check` (migration 0006). */
  via: string;
}

/** `column_lineage`: one asset's column lineage (JSON) per definition version (migration 0009). */
export interface ColumnLineageTable {
  definition_version: string;
  asset_key: string;
  /** `{ columns, indirect, unknown? }`: an `AssetColumnLineage` (core/model/lineage) without its key. */
  lineage: string;
  recorded_at: number;
}

/**
 * `backfills`: one row per backfill: the request (selection, range, mode, grouping) and its
 * progress (the runs that worked on it, partition counts, error). Columns after
 * `updated_at` were added by migration 0002.
 */
export interface BackfillsTable {
  id: string;
  selection: string;
  range_from: string;
  range_to: string;
  status: string;
  /** JSON: partition key → state. Reserved; backfill records do not use it yet. */
  partition_state: Generated<string>;
  created_at: number;
  updated_at: number;
  mode: string;
  grouping: string;
  /** JSON array of run ids, oldest first. */
  run_ids: string;
  total: number;
  done: number;
  failed: number;
  error: string | null;
}

/** `schedule_ticks`: one row per evaluation of a schedule. */
export interface ScheduleTicksTable {
  id: Generated<number>;
  schedule_name: string;
  tick_timestamp: number;
  status: string;
  /** JSON array of run ids started by the tick. */
  run_ids: string;
  error: string | null;
  created_at: number;
}

/** `leases`: a run's lock on one asset partition until `expires_at`. */
export interface LeasesTable {
  asset_key: string;
  partition_key: Generated<string>;
  run_id: string;
  acquired_at: number;
  expires_at: number;
}

/** Columns shared by `observations` and its latest copy (migration 0003). */
interface ObservationColumns {
  /** Number in the data sequence shared with materializations. */
  seq: number;
  asset_key: string;
  partition_key: Generated<string>;
  timestamp: number;
  data_version: string;
  /** JSON object. */
  metadata: string;
}

/** `observations`: every observation of a source asset partition that found a new data version. */
export type ObservationsTable = ObservationColumns;

/** `latest_observations`: the newest observation per source asset partition. */
export type LatestObservationsTable = ObservationColumns;

/** `daemon_ticks`: one row per daemon iteration (migration 0005). */
export interface DaemonTicksTable {
  id: Generated<number>;
  timestamp: number;
  status: string;
  /** JSON array of tick decisions. */
  decisions: string;
  /** JSON array of run ids. */
  run_ids: string;
  error: string | null;
  ended_at: number | null;
}

/** `daemon_cursors`: the daemon's named cursors (migration 0005). */
export interface DaemonCursorsTable {
  name: string;
  value: string;
  updated_at: number;
}

/** `daemon_lock`: the SQLite daemon lock, one row per lock name (migration 0008). */
export interface DaemonLockTable {
  name: string;
  pid: number;
  host: string;
  token: string;
  acquired_at: number;
  expires_at: number;
}

/** `alert_deliveries`: one row per group of alert events and its delivery (migration 0012). */
export interface AlertDeliveriesTable {
  id: Generated<number>;
  rule: string;
  kind: string;
  /** `''` for alerts about no asset. */
  asset_key: string;
  count: number;
  first_at: number;
  last_at: number;
  first_partition: string | null;
  last_partition: string | null;
  due_at: number;
  /** JSON object: the group's first event. */
  sample: string;
  status: string;
  attempts: number;
  last_error: string | null;
  updated_at: number | null;
}

/** `freshness_episodes`: one row per freshness miss episode, with the event that opened it (migration 0011). */
export interface FreshnessEpisodesTable {
  id: Generated<number>;
  asset_key: string;
  partition_key: string | null;
  run_id: string;
  started_at: number;
  ended_at: number | null;
  level: string;
  message: string;
  data: string | null;
}

/** Every table, for `Kysely<Database>`. */
export interface Database {
  runs: RunsTable;
  events: EventsTable;
  materializations: MaterializationsTable;
  latest_materializations: LatestMaterializationsTable;
  check_results: CheckResultsTable;
  latest_check_results: LatestCheckResultsTable;
  definition_versions: DefinitionVersionsTable;
  asset_lineage: AssetLineageTable;
  column_lineage: ColumnLineageTable;
  backfills: BackfillsTable;
  schedule_ticks: ScheduleTicksTable;
  leases: LeasesTable;
  daemon_ticks: DaemonTicksTable;
  daemon_cursors: DaemonCursorsTable;
  daemon_lock: DaemonLockTable;
  observations: ObservationsTable;
  latest_observations: LatestObservationsTable;
  alert_deliveries: AlertDeliveriesTable;
  freshness_episodes: FreshnessEpisodesTable;
}
