/**
 * Storage in plain Maps and arrays, for tests. It keeps the same rows as the SQLite tables
 * (through ./row-mappers.ts), so values, ids, ordering, `latest` semantics and errors are
 * the same as SQLite's; the shared contract suite holds both to that.
 */

import { InMemoryFreshnessEpisodes } from './freshness-episode-rows.ts';
import type { FreshnessEpisode } from './freshness-episode-store.ts';
import { decodeColumnLineage, encodeColumnLineage } from './column-lineage-queries.ts';
import type { AssetColumnLineage } from '../core/model/lineage/column-lineage.ts';
import { NotFoundError } from '../core/model/errors.ts';
import { InMemoryDaemonTicks } from './in-memory-daemon-ticks.ts';
import { InMemoryAlertDeliveries } from './in-memory-alert-deliveries.ts';
import type { AlertClaim, AlertDeliveryOutcome, AlertDeliveryRecord, AlertEventBatch } from './alert-delivery-store.ts';
import { InMemoryDaemonLockSlot } from './in-memory-daemon-lock.ts';
import type { DaemonLockAttempt, DaemonLockHolder } from './daemon-lock.ts';
import type { DaemonTickRecord, DaemonTickUpdate, NewDaemonTick } from './daemon-tick-store.ts';
import { parseJsonObject, partitionFromColumn, partitionToColumn } from './column-codecs.ts';
import { normalizePage, slicePage } from './page.ts';
import { pickFromRows } from './queue-claim.ts';
import {
  backfillFromRow,
  backfillToRow,
  backfillUpdateToRow,
  checkResultFromRow,
  checkResultToRow,
  eventFromRow,
  eventToRow,
  latestCheckResultFromRow,
  latestMaterializationFromRow,
  latestMaterializationRow,
  materializationFromRow,
  materializationToRow,
  runFromRow,
  runToRow,
  stepFailureFromRow,
} from './row-mappers.ts';
import type {
  BackfillRow,
  CheckResultRow,
  EventRow,
  LatestCheckResultRow,
  LatestMaterializationRow,
  MaterializationRow,
  RunRow,
  StepFailureRow,
} from './row-mappers.ts';
import type { AssetDataSummary, ObservationRecord } from './staleness-store.ts';
import { backfillExistsError, runExistsError, unknownRunError } from './storage-error.ts';
import { InMemoryLeaseTable } from './in-memory-lease-store.ts';
import type { DeadRunFailure, LeaseAcquireOptions, LeaseAcquisition, LeaseKey, LeaseRecord } from './lease-store.ts';
import type {
  BackfillRecord,
  BackfillUpdate,
  CheckResultRecord,
  EventRecord,
  LineageEdge,
  MaterializationRecord,
  Page,
  RunMaterializations,
  RunClaim,
  RunRecord,
  RunStatus,
  RunUpdate,
  StepCommit,
  StepFailureRecord,
  Storage,
} from './storage.ts';

/** One recorded definition version. */
interface DefinitionVersion {
  ordinal: number;
  readonly edges: readonly LineageEdge[];
}

/**
 * Storage that lives and dies with the process.
 *
 * @example
 * const storage = new InMemoryStorage();
 * await storage.createRun(run);
 */
export class InMemoryStorage implements Storage {
  readonly #runs = new Map<string, RunRow>();
  readonly #events: EventRow[] = [];
  readonly #eventsByRun = new Map<string, EventRow[]>();
  readonly #materializations: MaterializationRow[] = [];
  /** asset key → partition column → latest row. */
  readonly #latestMaterializations = new Map<string, Map<string, LatestMaterializationRow>>();
  readonly #checkResults: CheckResultRow[] = [];
  /** `asset key \0 check name \0 partition column` → latest row. */
  readonly #latestCheckResults = new Map<string, LatestCheckResultRow>();
  readonly #definitionVersions = new Map<string, DefinitionVersion>();
  /** Column lineage JSON per definition version, by asset key. */
  readonly #columnLineage = new Map<string, Map<string, string>>();
  readonly #backfills = new Map<string, BackfillRow>();
  readonly #ticks = new InMemoryDaemonTicks();
  readonly #alerts = new InMemoryAlertDeliveries();
  readonly #freshness = new InMemoryFreshnessEpisodes();
  readonly #daemonLock = new InMemoryDaemonLockSlot();
  readonly #leases = new InMemoryLeaseTable({
    run: (id) => this.#runs.get(id),
    insertEvents: (events) => this.#insertEvents(events),
    insertRun: (run) => this.#runs.set(run.id, runToRow(run)),
  });
  /** asset key → partition column → latest observation (its `seq` set). */
  readonly #latestObservations = new Map<string, Map<string, ObservationRecord>>();
  #lastOrdinal = 0;
  /** The data sequence: materialization ids and observation numbers. */
  #sequence = 0;

  async createRun(run: RunRecord): Promise<void> {
    if (this.#runs.has(run.id)) throw runExistsError(run.id);
    this.#runs.set(run.id, runToRow(run));
  }

  async updateRun(id: string, update: RunUpdate): Promise<void> {
    const row = this.#runs.get(id);
    if (row === undefined) throw new NotFoundError(`run ${id} does not exist`);
    if (update.status !== undefined) row.status = update.status;
    if (update.startedAt !== undefined) row.started_at = update.startedAt;
    if (update.endedAt !== undefined) row.ended_at = update.endedAt;
    if (update.error !== undefined) row.error = update.error;
    if (update.heartbeatAt !== undefined) row.heartbeat_at = update.heartbeatAt;
  }

  async claimQueuedRun(claim: RunClaim): Promise<RunRecord | undefined> {
    const rows = [...this.#runs.values()];
    const queued = newestFirst(rows.filter((r) => r.status === 'queued' && r.request !== null)).reverse();
    const id = pickFromRows(
      queued,
      rows.filter((r) => r.status === 'running'),
      claim,
    );
    const row = id === undefined ? undefined : this.#runs.get(id);
    if (row === undefined) return undefined;
    Object.assign(row, { status: 'running', started_at: claim.now, heartbeat_at: claim.now, pid: claim.pid });
    return runFromRow(row);
  }

  async cancelQueuedRun(id: string, now: number): Promise<boolean> {
    const row = this.#runs.get(id);
    if (row?.status !== 'queued') return false;
    Object.assign(row, { status: 'canceled', ended_at: now });
    return true;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.#runs.get(id);
    return row === undefined ? undefined : runFromRow(row);
  }

  async findRunsByPrefix(prefix: string): Promise<RunRecord[]> {
    return this.#runsNewestFirst()
      .filter((r) => r.id.startsWith(prefix))
      .slice(0, 10)
      .map(runFromRow);
  }

  async listRuns(options: Page & { readonly status?: RunStatus } = {}): Promise<RunRecord[]> {
    const page = normalizePage(options);
    const runs = this.#runsNewestFirst().filter((r) => options.status === undefined || r.status === options.status);
    return slicePage(runs, page).map(runFromRow);
  }

  async appendEvents(events: readonly EventRecord[]): Promise<void> {
    this.#requireRuns(events.map((e) => e.runId));
    this.#insertEvents(events);
  }

  async listEvents(runId: string, options: { readonly afterId?: number } = {}): Promise<EventRecord[]> {
    const rows = this.#eventsByRun.get(runId) ?? [];
    const { afterId } = options;
    return (afterId === undefined ? rows : rows.filter((r) => r.id > afterId)).map(eventFromRow);
  }

  async commitStep(commit: StepCommit): Promise<void> {
    const materializations = commit.materializations ?? [];
    const checkResults = commit.checkResults ?? [];
    // Validate everything first so a refused commit writes nothing, as a transaction would.
    this.#requireRuns([
      ...commit.events.map((e) => e.runId),
      ...materializations.map((m) => m.runId),
      ...checkResults.flatMap((c) => (c.runId === null ? [] : [c.runId])),
    ]);
    this.#insertEvents(commit.events);
    for (const m of materializations) {
      const row = { ...materializationToRow(m), id: ++this.#sequence };
      this.#materializations.push(row);
      let partitions = this.#latestMaterializations.get(row.asset_key);
      if (partitions === undefined) this.#latestMaterializations.set(row.asset_key, (partitions = new Map()));
      const { id, ...columns } = row;
      partitions.set(row.partition_key, latestMaterializationRow(columns, id));
    }
    for (const c of checkResults) {
      const row = { ...checkResultToRow(c), id: this.#checkResults.length + 1 };
      this.#checkResults.push(row);
      const { id, ...columns } = row;
      this.#latestCheckResults.set(checkKey(row), { ...columns, check_result_id: id });
    }
    if (commit.releaseLeases) this.#leases.release(commit.releaseLeases.runId, commit.releaseLeases.keys);
  }

  async latestMaterializations(keys?: readonly string[]): Promise<MaterializationRecord[]> {
    const assetKeys = [...(keys === undefined ? this.#latestMaterializations.keys() : new Set(keys))].sort(compare);
    return assetKeys.flatMap((key) => {
      const partitions = this.#latestMaterializations.get(key);
      if (partitions === undefined) return [];
      return [...partitions.keys()].sort(compare).map((p) => latestMaterializationFromRow(partitions.get(p)!));
    });
  }

  async changeMarker(): Promise<string> {
    return `${this.#events.length}:${this.#sequence}:${this.#checkResults.length}`;
  }

  async currentSequence(): Promise<number> {
    return this.#sequence;
  }

  async recordObservations(observations: readonly ObservationRecord[]): Promise<ObservationRecord[]> {
    const fresh: ObservationRecord[] = [];
    for (const o of observations) {
      const column = partitionToColumn(o.partition);
      let partitions = this.#latestObservations.get(o.assetKey);
      if (partitions === undefined) this.#latestObservations.set(o.assetKey, (partitions = new Map()));
      const previous = partitions.get(column);
      const copy = { ...o, partition: partitionFromColumn(column), metadata: structuredClone(o.metadata) };
      if (previous?.dataVersion === o.dataVersion) {
        partitions.set(column, { ...copy, seq: previous.seq as number });
        continue;
      }
      const observed = { ...copy, seq: ++this.#sequence };
      partitions.set(column, observed);
      fresh.push(observed);
    }
    return fresh;
  }

  async latestObservations(keys?: readonly string[]): Promise<ObservationRecord[]> {
    const assetKeys = [...(keys === undefined ? this.#latestObservations.keys() : new Set(keys))].sort(compare);
    return assetKeys.flatMap((key) => {
      const partitions = this.#latestObservations.get(key);
      return partitions === undefined ? [] : [...partitions.keys()].sort(compare).map((p) => partitions.get(p) as ObservationRecord);
    });
  }

  async dataSummaries(keys?: readonly string[]): Promise<AssetDataSummary[]> {
    const wanted = keys === undefined ? undefined : new Set(keys);
    const summaries: AssetDataSummary[] = [];
    for (const [key, partitions] of this.#latestMaterializations) {
      if (wanted && !wanted.has(key)) continue;
      const rows = [...partitions.keys()].sort(compare).map((p) => partitions.get(p) as LatestMaterializationRow);
      summaries.push(
        summarize(
          key,
          rows.map((r) => [r.partition_key, r.code_version, r.deps_version, r.materialization_id, r.read_seq]),
        ),
      );
    }
    for (const [key, partitions] of this.#latestObservations) {
      if (wanted && !wanted.has(key)) continue;
      const rows = [...partitions.keys()].sort(compare).map((p) => partitions.get(p) as ObservationRecord);
      summaries.push(
        summarize(
          key,
          rows.map((o) => [partitionToColumn(o.partition), '', '', o.seq as number, o.seq as number]),
        ),
      );
    }
    return summaries.sort((a, b) => compare(a.key, b.key));
  }

  async dataPartitionKeys(keys: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (const key of keys) {
      const partitions = this.#latestMaterializations.get(key) ?? this.#latestObservations.get(key);
      if (partitions !== undefined && partitions.size > 0) found.set(key, [...partitions.keys()].sort(compare));
    }
    return found;
  }

  async materializationHistory(key: string, options: Page & { readonly partition?: string | null } = {}): Promise<MaterializationRecord[]> {
    const page = normalizePage(options);
    const partition = options.partition === undefined ? undefined : partitionToColumn(options.partition);
    const rows = this.#materializations.filter((r) => r.asset_key === key && (partition === undefined || r.partition_key === partition));
    return slicePage(rows.reverse(), page).map(materializationFromRow);
  }

  async materializationsByRun(key: string, options: Page = {}): Promise<RunMaterializations[]> {
    const byRun = new Map<string, MaterializationRow[]>();
    for (const row of this.#materializations) {
      if (row.asset_key !== key) continue;
      const rows = byRun.get(row.run_id) ?? [];
      rows.push(row);
      byRun.set(row.run_id, rows);
    }
    // Rows are in id order, so a run's last row is its newest.
    const runs = [...byRun.entries()].sort((a, b) => (b[1].at(-1) as MaterializationRow).id - (a[1].at(-1) as MaterializationRow).id);
    return slicePage(runs, normalizePage(options)).map(([runId, rows]) => {
      const partitions = rows.map((r) => r.partition_key).sort();
      const counted = rows.filter((r) => r.row_count !== null);
      return {
        runId,
        partitions: rows.length,
        firstPartition: partitionFromColumn(partitions[0] ?? ''),
        lastPartition: partitionFromColumn(partitions.at(-1) ?? ''),
        rowCount: counted.length === 0 ? null : counted.reduce((sum, r) => sum + (r.row_count ?? 0), 0),
        timestamp: rows.reduce((max, r) => Math.max(max, r.timestamp), -Infinity),
        codeVersion: (rows.at(-1) as MaterializationRow).code_version,
        metadata: parseJsonObject((rows.at(-1) as MaterializationRow).metadata),
      };
    });
  }

  async latestCheckResults(keys?: readonly string[]): Promise<CheckResultRecord[]> {
    const wanted = keys === undefined ? undefined : new Set(keys);
    return [...this.#latestCheckResults.entries()]
      .filter(([, row]) => wanted === undefined || wanted.has(row.asset_key))
      .sort(([a], [b]) => compare(a, b))
      .map(([, row]) => latestCheckResultFromRow(row));
  }

  async checkHistory(key: string, options: Page = {}): Promise<CheckResultRecord[]> {
    const page = normalizePage(options);
    const rows = this.#checkResults.filter((r) => r.asset_key === key);
    return slicePage(rows.reverse(), page).map(checkResultFromRow);
  }

  async latestStepFailures(keys?: readonly string[]): Promise<StepFailureRecord[]> {
    const wanted = keys === undefined ? undefined : new Set(keys);
    // Events are in id order, so the last failure seen per asset partition is its latest.
    const latest = new Map<string, StepFailureRow>();
    for (const row of this.#events) {
      const key = row.asset_key;
      if (row.type !== 'step_failure' || key === null || (wanted !== undefined && !wanted.has(key))) continue;
      // Grouped by the stored partition, as SQL's GROUP BY (a null and an '' partition stay apart).
      latest.set(JSON.stringify([key, row.partition_key]), { ...row, asset_key: key });
    }
    return [...latest.values()]
      .sort((a, b) => compare(a.asset_key, b.asset_key) || comparePartitions(a.partition_key, b.partition_key))
      .map(stepFailureFromRow);
  }

  async createBackfill(backfill: BackfillRecord): Promise<void> {
    if (this.#backfills.has(backfill.id)) throw backfillExistsError(backfill.id);
    this.#backfills.set(backfill.id, backfillToRow(backfill));
  }

  async updateBackfill(id: string, update: BackfillUpdate): Promise<void> {
    const row = this.#backfills.get(id);
    if (row === undefined) throw new NotFoundError(`backfill ${id} does not exist`);
    Object.assign(row, backfillUpdateToRow(update));
  }

  async getBackfill(id: string): Promise<BackfillRecord | undefined> {
    const row = this.#backfills.get(id);
    return row === undefined ? undefined : backfillFromRow(row);
  }

  async findBackfillsByPrefix(prefix: string): Promise<BackfillRecord[]> {
    return newestFirst(this.#backfills.values())
      .filter((b) => b.id.startsWith(prefix))
      .slice(0, 10)
      .map(backfillFromRow);
  }

  async listBackfills(options: Page = {}): Promise<BackfillRecord[]> {
    return slicePage(newestFirst(this.#backfills.values()), normalizePage(options)).map(backfillFromRow);
  }

  async recordLineage(definitionVersion: string, edges: readonly LineageEdge[]): Promise<void> {
    const ordinal = ++this.#lastOrdinal;
    const existing = this.#definitionVersions.get(definitionVersion);
    if (existing !== undefined) {
      existing.ordinal = ordinal;
      return;
    }
    const unique = new Map<string, LineageEdge>();
    for (const e of edges)
      if (!unique.has(`${e.upstream}\0${e.downstream}`))
        unique.set(`${e.upstream}\0${e.downstream}`, { upstream: e.upstream, downstream: e.downstream, via: e.via ?? 'data' });
    this.#definitionVersions.set(definitionVersion, { ordinal, edges: [...unique.values()] });
  }

  async lineage(definitionVersion: string): Promise<LineageEdge[]> {
    return (this.#definitionVersions.get(definitionVersion)?.edges ?? []).map((e) => ({ ...e }));
  }

  async recordColumnLineage(definitionVersion: string, lineage: readonly AssetColumnLineage[]): Promise<void> {
    const recorded = this.#columnLineage.get(definitionVersion) ?? new Map<string, string>();
    for (const l of lineage) recorded.set(l.key, encodeColumnLineage(l));
    this.#columnLineage.set(definitionVersion, recorded);
  }

  async hasColumnLineage(definitionVersion: string): Promise<boolean> {
    return (this.#columnLineage.get(definitionVersion)?.size ?? 0) > 0;
  }

  async columnLineage(definitionVersion: string): Promise<AssetColumnLineage[]> {
    const recorded = this.#columnLineage.get(definitionVersion) ?? new Map<string, string>();
    return [...recorded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, json]) => decodeColumnLineage(key, json));
  }

  async latestDefinitionVersion(): Promise<string | undefined> {
    let latest: [string, number] | undefined;
    for (const [version, { ordinal }] of this.#definitionVersions) {
      if (latest === undefined || ordinal > latest[1]) latest = [version, ordinal];
    }
    return latest?.[0];
  }

  acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    return this.#leases.acquireLeases(runId, keys, options);
  }

  releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return this.#leases.releaseLeases(runId, keys);
  }

  extendLeases(runId: string, expiresAt: number): Promise<number> {
    return this.#leases.extendLeases(runId, expiresAt);
  }

  listLeases(options?: { readonly runId?: string }): Promise<LeaseRecord[]> {
    return this.#leases.listLeases(options);
  }

  failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    return this.#leases.failDeadRun(runId, failure);
  }

  recordAlertEvents(batch: AlertEventBatch): Promise<void> {
    return this.#alerts.record(batch);
  }

  claimAlertDeliveries(claim: AlertClaim): Promise<AlertDeliveryRecord[]> {
    return this.#alerts.claim(claim);
  }

  finishAlertDelivery(id: number, outcome: AlertDeliveryOutcome): Promise<void> {
    return this.#alerts.finish(id, outcome);
  }

  listAlertDeliveries(options?: Page): Promise<AlertDeliveryRecord[]> {
    return this.#alerts.list(options);
  }

  openFreshnessEpisode(event: EventRecord): Promise<FreshnessEpisode | undefined> {
    return this.#freshness.openFreshnessEpisode(event);
  }

  endFreshnessEpisodes(keys: readonly string[], now: number): Promise<string[]> {
    return this.#freshness.endFreshnessEpisodes(keys, now);
  }

  openFreshnessEpisodes(keys?: readonly string[]): Promise<FreshnessEpisode[]> {
    return this.#freshness.openFreshnessEpisodes(keys);
  }

  freshnessEpisodes(key: string, options?: Page): Promise<FreshnessEpisode[]> {
    return this.#freshness.freshnessEpisodes(key, options);
  }

  createDaemonTick(tick: NewDaemonTick): Promise<number> {
    return this.#ticks.create(tick);
  }

  updateDaemonTick(id: number, update: DaemonTickUpdate, cursors?: Readonly<Record<string, string>>): Promise<void> {
    return this.#ticks.update(id, update, cursors);
  }

  getDaemonTick(id: number): Promise<DaemonTickRecord | undefined> {
    return this.#ticks.get(id);
  }

  listDaemonTicks(options?: Page): Promise<DaemonTickRecord[]> {
    return this.#ticks.list(options);
  }

  daemonCursors(): Promise<Record<string, string>> {
    return this.#ticks.cursors();
  }

  async tryAcquireDaemonLock(me: DaemonLockHolder): Promise<DaemonLockAttempt> {
    return this.#daemonLock.tryAcquire(me);
  }

  async close(): Promise<void> {}

  #insertEvents(events: readonly EventRecord[]): void {
    for (const event of events) {
      const row = { ...eventToRow(event), id: this.#events.length + 1 };
      this.#events.push(row);
      let ofRun = this.#eventsByRun.get(row.run_id);
      if (ofRun === undefined) this.#eventsByRun.set(row.run_id, (ofRun = []));
      ofRun.push(row);
    }
  }

  #requireRuns(runIds: readonly string[]): void {
    const missing = runIds.find((id) => !this.#runs.has(id));
    if (missing !== undefined) throw unknownRunError(missing);
  }

  #runsNewestFirst(): RunRow[] {
    return newestFirst(this.#runs.values());
  }
}

/** Rows newest first: by `created_at`, then id, as the SQL listings order them. */
function newestFirst<Row extends { readonly id: string; readonly created_at: number }>(rows: Iterable<Row>): Row[] {
  return [...rows].sort((a, b) => b.created_at - a.created_at || compare(b.id, a.id));
}

/** The identity of a check's latest result; sorts like SQLite's (asset, check, partition) key. */
function checkKey(row: { asset_key: string; check_name: string; partition_key: string }): string {
  return `${row.asset_key}\0${row.check_name}\0${row.partition_key}`;
}

/** Orders strings by UTF-16 code unit, as SQLite's BINARY collation does for ASCII keys. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders stored partitions as SQLite does: null first, then strings by {@link compare}. */
function comparePartitions(a: string | null, b: string | null): number {
  return a === b ? 0 : a === null ? -1 : b === null ? 1 : compare(a, b);
}

/** A summary from one asset's rows in partition order: `[partition, code, deps, seq, readSeq]`. */
function summarize(key: string, rows: readonly (readonly [string, string, string, number, number])[]): AssetDataSummary {
  const codes = rows.map((r) => r[1]).sort(compare);
  const deps = rows.map((r) => r[2]).sort(compare);
  return {
    key,
    count: rows.length,
    first: rows[0]?.[0] ?? '',
    last: rows.at(-1)?.[0] ?? '',
    minCodeVersion: codes[0] ?? '',
    maxCodeVersion: codes.at(-1) ?? '',
    minDepsVersion: deps[0] ?? '',
    maxDepsVersion: deps.at(-1) ?? '',
    seqs: Float64Array.from(rows, (r) => r[3]),
    readSeqs: Float64Array.from(rows, (r) => r[4]),
  };
}
