/**
 * The two bulk reads staleness depends on (latest materializations, latest observations) read
 * rows as arrays, about twice as fast as objects: their column lists and tuple-to-record
 * mappings, shared by the SQLite and Postgres storages.
 */
import { parseJsonObject, partitionFromColumn } from './column-codecs.ts';
import type { ObservationRecord } from './staleness-store.ts';
import type { MaterializationRecord } from './storage.ts';

/** Columns read from `latest_materializations`, in the order of {@link LatestMaterializationTuple}. */
export const LATEST_MATERIALIZATION_COLUMNS = [
  'materialization_id',
  'asset_key',
  'partition_key',
  'run_id',
  'timestamp',
  'code_version',
  'data_version',
  'input_data_versions',
  'row_count',
  'metadata',
  'read_seq',
  'deps_version',
] as const;

/** A `latest_materializations` row read as an array. */
export type LatestMaterializationTuple = [
  id: number,
  assetKey: string,
  partitionKey: string,
  runId: string,
  timestamp: number,
  codeVersion: string,
  dataVersion: string,
  inputDataVersions: string,
  rowCount: number | null,
  metadata: string,
  readSeq: number,
  depsVersion: string,
];

/** The record of a {@link LatestMaterializationTuple}. */
export function materializationFromTuple(r: LatestMaterializationTuple): MaterializationRecord {
  return {
    id: r[0],
    assetKey: r[1],
    partition: partitionFromColumn(r[2]),
    runId: r[3],
    timestamp: r[4],
    codeVersion: r[5],
    dataVersion: r[6],
    inputDataVersions: parseJsonObject<Record<string, string>>(r[7]),
    rowCount: r[8],
    metadata: parseJsonObject(r[9]),
    readSeq: r[10],
    depsVersion: r[11],
  };
}

/** `select` of `latest_observations`, in the order of {@link ObservationTuple}. */
export const OBSERVATION_SELECT = 'select seq, asset_key, partition_key, timestamp, data_version, metadata from latest_observations';

/** A `latest_observations` row read as an array. */
export type ObservationTuple = [seq: number, assetKey: string, partitionKey: string, timestamp: number, dataVersion: string, metadata: string];

/** The record of an {@link ObservationTuple}. */
export function observationFromTuple(r: ObservationTuple): ObservationRecord {
  return { seq: r[0], assetKey: r[1], partition: partitionFromColumn(r[2]), timestamp: r[3], dataVersion: r[4], metadata: parseJsonObject(r[5]) };
}
