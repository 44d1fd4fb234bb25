/**
 * The storage contract: runs, the append-only event log, materializations, check results
 * and lineage. SQLite ({@link ./sqlite-storage.ts}) is the default implementation, Postgres
 * ({@link ./postgres-storage.ts}) the shared one for a team, and an in-memory one serves tests;
 * all three pass the same contract suite in tests/integration.
 *
 * All timestamps are epoch milliseconds. `partition` is `null` for unpartitioned assets.
 */

import type { StalenessStore } from './staleness-store.ts';
import type { LeaseRelease, LeaseStore } from './lease-store.ts';
import type { DaemonTickStore } from './daemon-tick-store.ts';
import type { DaemonLockStore } from './daemon-lock.ts';
import type { AlertDeliveryStore } from './alert-delivery-store.ts';
import type { FreshnessEpisodeStore } from './freshness-episode-store.ts';
import type { AssetColumnLineage } from '../core/model/lineage/column-lineage.ts';
import type { QueueWake } from './queue-wake.ts';

/** Lifecycle of a run. */
export type RunStatus = 'queued' | 'running' | 'success' | 'failed' | 'canceled';

/** True for a status a run never leaves. */
export function runEnded(status: RunStatus): boolean {
  return status === 'success' || status === 'failed' || status === 'canceled';
}

/** What started a run. */
export type RunTrigger = 'manual' | 'schedule' | 'automation' | 'backfill';

/** One execution of a plan. */
export interface RunRecord {
  readonly id: string;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  /** The selection string as the user wrote it. */
  readonly selection: string;
  /** Asset keys the plan covers, in execution order. */
  readonly assetKeys: readonly string[];
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  /** The error that failed the run, if any. */
  readonly error: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** The last time the run's process said it was alive (absent: never). */
  readonly heartbeatAt?: number | null;
  /** Id of the process running it (absent: unknown). */
  readonly pid?: number | null;
  /**
   * What a queued run needs to run (a selection, partitions, options: see the engine's
   * queued-run request), recorded by `assets materialize --queue` for a worker to claim
   * (absent: a run started in the process that recorded it, never claimed).
   */
  readonly request?: RunRequest | null;
  /**
   * Concurrency pools a queued run holds a slot of while it runs, sorted (absent: none
   * recorded, as for runs started in-process): `claimQueuedRun` counts them across claimers.
   */
  readonly pools?: readonly string[] | null;
}

/** A queued run's request: a JSON object the engine writes and reads back; storage keeps it as it is. */
export type RunRequest = Readonly<Record<string, unknown>>;

/** Who claims a queued run (see `RunStore.claimQueuedRun`). */
export interface RunClaim {
  /** The claim's time: the run's `startedAt` and first `heartbeatAt`. */
  readonly now: number;
  /** The claiming process. */
  readonly pid: number;
  /**
   * Slots of each pool across every claimer on every host (absent: no limit). A run is
   * claimed only while each of its pools has fewer running runs (counted in storage, by their
   * recorded `pools`) than its limit.
   */
  readonly poolLimit?: (pool: string) => number;
  /** Claim only runs all of whose pools are listed here (absent: any run; a run with no pools: any claimer). */
  readonly pools?: readonly string[];
}

/** Fields of a run that change over its life. */
export type RunUpdate = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'endedAt' | 'error' | 'heartbeatAt'>>;

/** Kinds of event in the log. */
export type EventType =
  | 'run_start'
  | 'run_success'
  | 'run_failure'
  | 'run_canceled'
  | 'step_start'
  | 'step_success'
  | 'step_failure'
  | 'step_skipped'
  /** A step failed and will run again after a delay (`data`: attempt, delayMs, error). */
  | 'step_retry'
  /**
   * How far a running step's statement has got (`data`: percentage, rowsProcessed, totalRows,
   * elapsedMs). Live only: sent to `onEvent` listeners and the UI's event stream, never stored.
   */
  | 'step_progress'
  /** A source's observation failed and will be tried again after a delay (`data`: attempt, maxAttempts, delayMs, error). */
  | 'observation_retry'
  /** A source could not be observed, its retries spent; the steps reading it are skipped (`data`: error, attempts). */
  | 'observation_failure'
  | 'materialization'
  /**
   * A step's table has other columns or types than the asset's previous materialization recorded
   * (`data`: added `[{name, type}]`, removed `[{name, type}]`, retyped `[{name, from, to}]`);
   * recorded in the step's commit, at `warn` when columns were removed or retyped.
   */
  | 'schema_change'
  | 'check_result'
  | 'log'
  /**
   * An asset with a freshness policy became overdue (raised by the daemon once per miss episode,
   * level `warn`; `data`: maxLagMs, lagMs, lastMaterializedAt, the last two `null` when it was
   * never materialized; `partition`: the newest partition). It belongs to no run: `runId` is the
   * daemon tick that raised it, `daemon-tick-<id>`, and it is stored with its episode (see
   * ./freshness-episode-store.ts), not in a run's events.
   */
  | 'freshness_miss'
  /** A daemon tick failed (`data`: tickId, error; `runId` is `''`). Told to run observers only, never stored. */
  | 'daemon_error'
  /** A backfill ended (`data`: backfillId, status, done, failed, from, to, error). Told to run observers only, never stored. */
  | 'backfill_done';

/** Severity of an event. */
export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

/** One entry of the append-only event log. `id` is assigned by storage, increasing. */
export interface EventRecord {
  readonly id?: number;
  readonly runId: string;
  readonly timestamp: number;
  readonly type: EventType;
  readonly level: EventLevel;
  readonly assetKey: string | null;
  readonly partition: string | null;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>> | null;
}

/** One successful write of one asset partition. */
export interface MaterializationRecord {
  readonly id?: number;
  readonly assetKey: string;
  readonly partition: string | null;
  readonly runId: string;
  readonly timestamp: number;
  readonly codeVersion: string;
  readonly dataVersion: string;
  /** Data version of every input read, by upstream asset key (and partition, `key@partition`). */
  readonly inputDataVersions: Readonly<Record<string, string>>;
  readonly rowCount: number | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * The data sequence number when the step read its inputs (see {@link StalenessStore}): an
   * upstream partition written later has a higher number. `0` when unknown.
   */
  readonly readSeq?: number;
  /** Hash of the asset's dependency keys when it was built; `''` when unknown. */
  readonly depsVersion?: string;
}

/** Outcome of one data-quality check on one asset partition. */
export interface CheckResultRecord {
  readonly id?: number;
  readonly runId: string | null;
  readonly assetKey: string;
  readonly partition: string | null;
  readonly checkName: string;
  readonly passed: boolean;
  readonly severity: 'warn' | 'error';
  readonly violations: number;
  readonly sample: readonly Readonly<Record<string, unknown>>[];
  readonly sql: string;
  readonly durationMs: number;
  readonly timestamp: number;
  /**
   * Why the check could not run (DuckDB's message: a missing table, a binder error): its outcome
   * is an error, not a count of violations (`passed` false, `violations` 0). Absent when it ran.
   */
  readonly error?: string;
}

/** What a check result says: it passed, found violations, or could not run. */
export type CheckStatus = 'passed' | 'failed' | 'error';

/** The status of a check result. */
export function checkStatus(result: Pick<CheckResultRecord, 'passed' | 'error'>): CheckStatus {
  if (result.error !== undefined) return 'error';
  return result.passed ? 'passed' : 'failed';
}

/** A dependency edge of one definition version of the graph. */
export interface LineageEdge {
  readonly upstream: string;
  readonly downstream: string;
  /** `check`: only the downstream asset's checks read the upstream one. Absent on input: `data`; always set when read. */
  readonly via?: 'data' | 'check';
}

/** Paging for list queries, newest first. Both must be non-negative integers (else `UsageError`). */
export interface Page {
  readonly limit?: number;
  readonly offset?: number;
}

/** Runs: create, update, read. */
export interface RunStore {
  /** Throws `StorageError` `run_exists` if the id is taken. */
  createRun(run: RunRecord): Promise<void>;
  /** Sets the fields given (not `undefined`); throws `NotFoundError` for an unknown run. */
  updateRun(id: string, update: RunUpdate): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs whose id starts with `prefix` (for short ids typed by users), newest first, at most 10. */
  findRunsByPrefix(prefix: string): Promise<RunRecord[]>;
  /**
   * Claims the oldest queued run that has a `request` (by `createdAt`, then id) and that
   * `claim` may start (see ./queue-claim.ts: its pools have free slots and are among
   * `claim.pools`) atomically: it becomes `running`, started and heartbeating at `claim.now`,
   * held by `claim.pid`, and is returned as it now is; `undefined` when none can be claimed.
   * Two processes claiming at once never get the same run, nor more runs of a pool than its
   * limit (on Postgres, a transaction-long advisory lock serializes the claims).
   */
  claimQueuedRun(claim: RunClaim): Promise<RunRecord | undefined>;
  /**
   * Cancels a queued run no claimer has taken: it becomes `canceled`, ended at `now`. False
   * (nothing changed) when it is not queued any more, e.g. a worker claimed it first.
   */
  cancelQueuedRun(id: string, now: number): Promise<boolean>;
  /** Newest first (by `createdAt`, then id). */
  listRuns(options?: Page & { readonly status?: RunStatus }): Promise<RunRecord[]>;
}

/** The append-only event log. */
export interface EventLog {
  /**
   * Appends events atomically. Every event's run must exist (else `StorageError`
   * `unknown_run`, and none of the events is written).
   */
  appendEvents(events: readonly EventRecord[]): Promise<void>;
  /** Events of a run in append order; `afterId` returns only later events (for live tailing). */
  listEvents(runId: string, options?: { readonly afterId?: number }): Promise<EventRecord[]>;
}

/** Materializations, with the latest per asset + partition kept indexed. */
export interface MaterializationStore {
  /**
   * The latest (most recently recorded) materialization of every asset partition, optionally
   * only for `keys`, ordered by asset key then partition (unpartitioned first). For very large
   * graphs read it in batches of keys.
   */
  latestMaterializations(keys?: readonly string[]): Promise<MaterializationRecord[]>;
  /**
   * Materializations of one asset, newest first: all partitions when `partition` is
   * `undefined`, only unpartitioned ones when it is `null`.
   */
  materializationHistory(key: string, options?: Page & { readonly partition?: string | null }): Promise<MaterializationRecord[]>;
  /** The materializations of one asset summed up per run, newest run first. */
  materializationsByRun(key: string, options?: Page): Promise<RunMaterializations[]>;
}

/** What one run materialized of one asset (see `MaterializationStore.materializationsByRun`). */
export interface RunMaterializations {
  readonly runId: string;
  /** Partitions written (1 for an unpartitioned asset). */
  readonly partitions: number;
  /** First and last partition key written (`null` for an unpartitioned asset). */
  readonly firstPartition: string | null;
  readonly lastPartition: string | null;
  /** Sum of the row counts, `null` when no materialization recorded one. */
  readonly rowCount: number | null;
  /** When its last materialization of the asset was recorded (ms). */
  readonly timestamp: number;
  /** The code version of that last materialization. */
  readonly codeVersion: string;
  /** The metadata of that last materialization (an incremental or snapshot write's counts, …). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Check results. */
export interface CheckResultStore {
  /**
   * The latest result of every check per asset, check name and partition, optionally only for
   * `keys`, ordered by asset key, check name, partition.
   */
  latestCheckResults(keys?: readonly string[]): Promise<CheckResultRecord[]>;
  /** Results of one asset's checks, newest first. */
  checkHistory(key: string, options?: Page): Promise<CheckResultRecord[]>;
}

/** Lineage edges per definition version. */
export interface LineageStore {
  /**
   * Records the edges of a definition version; a version already recorded keeps its edges
   * (but becomes the latest again). Duplicate edges are recorded once.
   */
  recordLineage(definitionVersion: string, edges: readonly LineageEdge[]): Promise<void>;
  lineage(definitionVersion: string): Promise<LineageEdge[]>;
  /** The most recently recorded definition version, if any. */
  latestDefinitionVersion(): Promise<string | undefined>;
  /**
   * Records the column lineage of assets in a definition version, replacing what was recorded
   * for the same assets in it before (a version hashes the graph's shape, not the queries, and
   * upstream columns become known as tables are written).
   */
  recordColumnLineage(definitionVersion: string, lineage: readonly AssetColumnLineage[]): Promise<void>;
  /** The column lineage recorded for a definition version, sorted by asset key. */
  columnLineage(definitionVersion: string): Promise<AssetColumnLineage[]>;
  /** Whether any column lineage is recorded for a definition version (one cheap read: runs ask it every time). */
  hasColumnLineage(definitionVersion: string): Promise<boolean>;
}

/** Lifecycle of a backfill. */
export type BackfillStatus = 'running' | 'success' | 'failed' | 'canceled';

/** A stored backfill: what was asked, which runs worked on it, and its progress. */
export interface BackfillRecord {
  readonly id: string;
  readonly selection: string;
  /** The requested range, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly status: BackfillStatus;
  /** `all`, `missing_only` or `stale_only`. */
  readonly mode: 'all' | 'missing_only' | 'stale_only';
  /** `policy` (each asset's backfill policy) or `per_partition`. */
  readonly grouping: 'policy' | 'per_partition';
  /** Runs that worked on this backfill, oldest first (a resume adds one). */
  readonly runIds: readonly string[];
  /** Asset partitions planned, done and failed so far. */
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly error: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Fields of a backfill that change over its life. */
export type BackfillUpdate = Partial<Pick<BackfillRecord, 'status' | 'runIds' | 'total' | 'done' | 'failed' | 'error' | 'updatedAt'>>;

/** Backfills: create, update, read. */
export interface BackfillStore {
  /** Throws `StorageError` `backfill_exists` if the id is taken. */
  createBackfill(backfill: BackfillRecord): Promise<void>;
  /** Sets the fields given (not `undefined`); throws `NotFoundError` for an unknown backfill. */
  updateBackfill(id: string, update: BackfillUpdate): Promise<void>;
  getBackfill(id: string): Promise<BackfillRecord | undefined>;
  /** Backfills whose id starts with `prefix` (case-sensitively), newest first, at most 10. */
  findBackfillsByPrefix(prefix: string): Promise<BackfillRecord[]>;
  /** Newest first (by `createdAt`, then id). */
  listBackfills(options?: Page): Promise<BackfillRecord[]>;
}

/** The latest failed attempt of one asset partition. */
export interface StepFailureRecord {
  readonly assetKey: string;
  readonly partition: string | null;
  readonly runId: string;
  readonly timestamp: number;
  /** Id of the `step_failure` event. */
  readonly eventId: number;
  readonly message: string;
}

/** Failed attempts, read from the event log. */
export interface FailureStore {
  /**
   * The latest (most recently recorded) `step_failure` event of every asset partition
   * (optionally only `keys`), in one query, ordered by asset key then partition (unpartitioned
   * first). Failure events without an asset key are left out. Callers compare its time with
   * the latest materialization to know if the last attempt failed.
   */
  latestStepFailures(keys?: readonly string[]): Promise<StepFailureRecord[]>;
}

/** What one finished step writes, atomically. */
export interface StepCommit {
  readonly events: readonly EventRecord[];
  readonly materializations?: readonly MaterializationRecord[];
  readonly checkResults?: readonly CheckResultRecord[];
  /** Leases the step gives back in the same transaction (as `releaseLeases(runId, keys)`). */
  readonly releaseLeases?: LeaseRelease;
}

/** The whole storage contract. */
export interface Storage
  extends RunStore,
    EventLog,
    MaterializationStore,
    CheckResultStore,
    LineageStore,
    BackfillStore,
    FailureStore,
    StalenessStore,
    LeaseStore,
    DaemonTickStore,
    DaemonLockStore,
    AlertDeliveryStore,
    FreshnessEpisodeStore,
    // Optional: Postgres wakes idle workers at once; the others are polled.
    Partial<QueueWake> {
  /**
   * Appends events and records materializations and check results in one transaction, and
   * makes each materialization / check result the latest of its asset partition / check.
   * If anything fails (e.g. `StorageError` `unknown_run`), nothing of the commit is written.
   */
  commitStep(commit: StepCommit): Promise<void>;
  /**
   * A cheap value that changes whenever an event, materialization, observation or check result
   * is recorded, by any process: a reader may reuse what it derived from those while the value
   * stays the same (the UI's asset list does).
   */
  changeMarker(): Promise<string>;
  close(): Promise<void>;
}
