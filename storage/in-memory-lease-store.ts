/**
 * Leases in memory (see ./lease-store.ts), for {@link InMemoryStorage}: the same rows and
 * rules as the SQLite store, over the storage's own run rows and event log.
 */

import { partitionToColumn } from './column-codecs.ts';
import {
  uniqueLeaseKeys,
  type DeadRunFailure,
  type LeaseAcquireOptions,
  type LeaseAcquisition,
  type LeaseKey,
  type LeaseRecord,
  type LeaseStore,
} from './lease-store.ts';
import type { RunRow } from './row-mappers.ts';
import type { LeasesTable } from './schema.ts';
import { runExistsError, unknownRunError } from './storage-error.ts';
import type { EventRecord, RunRecord } from './storage.ts';
import { leaseFromRow } from './row-mappers.ts';

type LeaseRow = { -readonly [K in keyof LeasesTable]: K extends 'partition_key' ? string : LeasesTable[K] };

/** What the lease table needs from the storage it belongs to. */
export interface LeaseTableHost {
  /** The row of a run (mutable: a dead run is marked failed in place). */
  run(id: string): RunRow | undefined;
  /** Appends events to the log. */
  insertEvents(events: readonly EventRecord[]): void;
  /** Adds a run (a dead run's retry; its id is new). */
  insertRun(run: RunRecord): void;
}

/** The `leases` table of an in-memory storage. */
export class InMemoryLeaseTable implements LeaseStore {
  readonly #host: LeaseTableHost;
  /** `JSON [asset key, partition column]` → row. */
  readonly #rows = new Map<string, LeaseRow>();

  constructor(host: LeaseTableHost) {
    this.#host = host;
  }

  async acquireLeases(runId: string, keys: readonly LeaseKey[], options: LeaseAcquireOptions): Promise<LeaseAcquisition> {
    const events = options.events ?? [];
    // Validated first so a refused request writes nothing, as a transaction would.
    for (const id of [runId, ...events.map((e) => e.runId)]) if (this.#host.run(id) === undefined) throw unknownRunError(id);
    const unique = uniqueLeaseKeys(keys);
    const conflicts = unique.flatMap((k) => {
      const held = this.#rows.get(rowId(k));
      return held && held.run_id !== runId && held.expires_at > options.now && this.#host.run(held.run_id)?.status === 'running' ? [leaseFromRow(held)] : [];
    });
    if (conflicts.length > 0) return { acquired: false, conflicts };
    const leases = unique.map((k) => {
      const held = this.#rows.get(rowId(k));
      const row: LeaseRow = {
        asset_key: k.assetKey,
        partition_key: partitionToColumn(k.partition),
        run_id: runId,
        acquired_at: held?.run_id === runId ? held.acquired_at : options.now,
        expires_at: options.expiresAt,
      };
      this.#rows.set(rowId(k), row);
      return leaseFromRow(row);
    });
    this.#host.insertEvents(events);
    return { acquired: true, leases };
  }

  async releaseLeases(runId: string, keys?: readonly LeaseKey[]): Promise<number> {
    return this.release(runId, keys);
  }

  /** {@link releaseLeases}, synchronously (for a step commit that gives leases back). */
  release(runId: string, keys?: readonly LeaseKey[]): number {
    let released = 0;
    const ids = keys === undefined ? [...this.#rows.keys()] : uniqueLeaseKeys(keys).map(rowId);
    for (const id of ids) {
      if (this.#rows.get(id)?.run_id === runId) {
        this.#rows.delete(id);
        released++;
      }
    }
    return released;
  }

  async extendLeases(runId: string, expiresAt: number): Promise<number> {
    let held = 0;
    for (const row of this.#rows.values()) {
      if (row.run_id !== runId) continue;
      row.expires_at = expiresAt;
      held++;
    }
    return held;
  }

  async listLeases(options: { readonly runId?: string } = {}): Promise<LeaseRecord[]> {
    return [...this.#rows.values()]
      .filter((row) => options.runId === undefined || row.run_id === options.runId)
      .sort((a, b) => compare(a.asset_key, b.asset_key) || compare(a.partition_key, b.partition_key))
      .map(leaseFromRow);
  }

  async failDeadRun(runId: string, failure: DeadRunFailure): Promise<{ readonly releasedLeases: number } | undefined> {
    const run = this.#host.run(runId);
    if (run === undefined || run.status !== 'running') return undefined;
    const lastSeen = run.heartbeat_at ?? run.started_at ?? run.created_at;
    if (lastSeen > failure.lastSeenBefore) return undefined;
    if (failure.retry !== undefined && this.#host.run(failure.retry.id) !== undefined) throw runExistsError(failure.retry.id);
    run.status = 'failed';
    run.ended_at = failure.endedAt;
    run.error = failure.error;
    this.#host.insertEvents([failure.event]);
    if (failure.retry !== undefined) this.#host.insertRun(failure.retry);
    return { releasedLeases: await this.releaseLeases(runId) };
  }
}

function rowId(key: LeaseKey): string {
  return JSON.stringify([key.assetKey, partitionToColumn(key.partition)]);
}

/** Orders strings as SQLite's BINARY collation does for ASCII keys. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
