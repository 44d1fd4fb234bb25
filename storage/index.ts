/**
 * Public surface of Strata's storage: the contract, its SQLite, Postgres and in-memory
 * implementations, and {@link openStorage} to pick one from configuration.
 */

import { InMemoryStorage } from './in-memory-storage.ts';
import { SqliteStorage } from './sqlite-storage.ts';
import type { Storage } from './storage.ts';

export type {
  BackfillRecord,
  BackfillStatus,
  BackfillStore,
  BackfillUpdate,
  CheckResultRecord,
  CheckResultStore,
  EventLevel,
  EventLog,
  EventRecord,
  EventType,
  FailureStore,
  LineageEdge,
  LineageStore,
  MaterializationRecord,
  MaterializationStore,
  Page,
  RunClaim,
  RunRecord,
  RunRequest,
  RunStatus,
  RunStore,
  RunTrigger,
  RunUpdate,
  StepCommit,
  StepFailureRecord,
  Storage,
} from './storage.ts';
export type { AssetDataSummary, ObservationRecord, StalenessStore } from './staleness-store.ts';
export type { DeadRunFailure, LeaseAcquireOptions, LeaseAcquisition, LeaseKey, LeaseRecord, LeaseRelease, LeaseStore } from './lease-store.ts';
export type {
  AlertClaim,
  AlertDeliveryOutcome,
  AlertDeliveryRecord,
  AlertDeliveryStatus,
  AlertEventBatch,
  AlertGroupKey,
  AlertDeliveryStore,
} from './alert-delivery-store.ts';
export type { DaemonTickRecord, DaemonTickStatus, DaemonTickStore, DaemonTickUpdate, NewDaemonTick, TickDecision, TickTarget } from './daemon-tick-store.ts';
export type { DaemonLockAttempt, DaemonLockHolder, DaemonLockOptions, DaemonLockStore, HeldDaemonLock } from './daemon-lock.ts';
export { DAEMON_LOCK_TTL_MS } from './daemon-lock.ts';
export { type QueueWake, waitForQueued } from './queue-wake.ts';
export { InMemoryStorage } from './in-memory-storage.ts';
export { SqliteStorage } from './sqlite-storage.ts';
export { StorageError } from './storage-error.ts';
export type { StorageErrorCode } from './storage-error.ts';
export type { PostgresStorage } from './postgres-storage.ts';
export { migrationProvider, migrations, postgresMigrationProvider, postgresMigrations } from './migrations/index.ts';

/** Which storage to open: a SQLite file, a Postgres database (`postgres://…`), or memory (for tests). */
export type StorageSpec =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'memory' };

/**
 * Opens the storage `spec` describes. Postgres's code (pg) is loaded only when it is asked for.
 * A Postgres server that cannot be reached is a `StorageError` `storage_unreachable` naming
 * host, port and database, never the password.
 *
 * @example
 * const storage = await openStorage({ kind: 'sqlite', file: '.strata/strata.db' });
 * const shared = await openStorage({ kind: 'postgres', url: process.env.STRATA_STORAGE! });
 */
export async function openStorage(spec: StorageSpec): Promise<Storage> {
  switch (spec.kind) {
    case 'sqlite':
      return SqliteStorage.open(spec.file);
    case 'postgres':
      return (await import('./postgres-storage.ts')).PostgresStorage.open(spec.url);
    case 'memory':
      return new InMemoryStorage();
  }
}
