/**
 * Public surface of Strata's storage: the contract, its SQLite and in-memory
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
  RunRecord,
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
export type { DaemonTickRecord, DaemonTickStatus, DaemonTickStore, DaemonTickUpdate, NewDaemonTick, TickDecision, TickTarget } from './daemon-tick-store.ts';
export { InMemoryStorage } from './in-memory-storage.ts';
export { SqliteStorage } from './sqlite-storage.ts';
export { StorageError } from './storage-error.ts';
export type { StorageErrorCode } from './storage-error.ts';
export { migrationProvider, migrations } from './migrations/index.ts';

/** Which storage to open: a SQLite file, or memory (for tests). */
export type StorageSpec = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'memory' };

/**
 * Opens the storage `spec` describes.
 *
 * @example
 * const storage = await openStorage({ kind: 'sqlite', file: '.strata/strata.db' });
 */
export async function openStorage(spec: StorageSpec): Promise<Storage> {
  switch (spec.kind) {
    case 'sqlite':
      return SqliteStorage.open(spec.file);
    case 'memory':
      return new InMemoryStorage();
  }
}
