/**
 * What bulk staleness reads and writes: the data sequence, a per-asset summary of the
 * latest-materialization index, and observations of source assets.
 *
 * The data sequence numbers every materialization and observation in commit order (a
 * materialization's number is its id). A downstream partition records the sequence number
 * at which it read its inputs (`readSeq`); an upstream partition whose latest number is
 * higher was written after that read. Comparing numbers in bulk finds the few partitions
 * whose consumed data versions need checking, without reading every materialization record.
 */

/** One observation of a source asset partition (a landing file, say). */
export interface ObservationRecord {
  /** Number in the data sequence; assigned by storage when the data version is new. */
  readonly seq?: number;
  readonly assetKey: string;
  /** `null` for an unpartitioned source. */
  readonly partition: string | null;
  readonly timestamp: number;
  readonly dataVersion: string;
  /** What was observed (file, size, mtime...). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * One asset's latest data (materializations, or observations for a source), in partition key
 * order: what one pass over the latest-materialization index yields per asset.
 */
export interface AssetDataSummary {
  readonly key: string;
  /** Partitions with data. */
  readonly count: number;
  /** Smallest and largest partition key (`''` for an unpartitioned asset). */
  readonly first: string;
  readonly last: string;
  /**
   * Code and dependency versions (`''` when unknown) of the smallest and largest recorded
   * (code, deps) pair: equal pairs mean every partition recorded the same versions.
   */
  readonly minCodeVersion: string;
  readonly maxCodeVersion: string;
  readonly minDepsVersion: string;
  readonly maxDepsVersion: string;
  /** Sequence number of each partition's latest data, in partition key order. */
  readonly seqs: Float64Array;
  /** Sequence number at which each partition read its inputs (observations: their own number). */
  readonly readSeqs: Float64Array;
}

/** The staleness part of the storage contract. */
export interface StalenessStore {
  /** The highest data sequence number assigned so far (0 when none). */
  currentSequence(): Promise<number>;
  /**
   * Records observations atomically. An observation whose data version equals the partition's
   * latest only refreshes its metadata and time (keeping its sequence number); any other takes
   * the next sequence number and becomes the latest. Returns the observations that were new.
   */
  recordObservations(observations: readonly ObservationRecord[]): Promise<ObservationRecord[]>;
  /** The latest observation of every source partition (optionally only `keys`), by key then partition. */
  latestObservations(keys?: readonly string[]): Promise<ObservationRecord[]>;
  /** One summary per asset with latest data (optionally only `keys`), by asset key. */
  dataSummaries(keys?: readonly string[]): Promise<AssetDataSummary[]>;
  /** The partition keys with latest data of each asset in `keys`, sorted (`''` for unpartitioned). */
  dataPartitionKeys(keys: readonly string[]): Promise<Map<string, string[]>>;
}
