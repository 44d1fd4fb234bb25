/**
 * Errors storage raises when a write would break its integrity rules (programming errors: the
 * engine asked for something impossible), or when the configured storage cannot be reached (a
 * user error: exit code 2).
 */

import { StrataError } from '../core/model/errors.ts';

/** Stable codes of {@link StorageError}. */
export type StorageErrorCode =
  /** `createRun` with an id that is already taken. */
  | 'run_exists'
  /** `createBackfill` with an id that is already taken. */
  | 'backfill_exists'
  /** An event, materialization or check result names a run that was never created. */
  | 'unknown_run'
  /** The storage database cannot be connected to (the message names host, port and database, never the password). */
  | 'storage_unreachable'
  /** The storage database was migrated by a newer Strata (the message names both schema versions). */
  | 'storage_schema_newer';

/**
 * A write that storage refused; nothing of the refused call was written.
 *
 * @example
 * try { await storage.createRun(run) } catch (e) { if (e instanceof StorageError && e.code === 'run_exists') retry() }
 */
export class StorageError extends StrataError {
  declare readonly code: StorageErrorCode;

  constructor(
    code: StorageErrorCode,
    message: string,
    readonly runId?: string,
    readonly backfillId?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, {}, code === 'storage_unreachable' || code === 'storage_schema_newer', options);
  }
}

/** The error for a run id that is already taken (`cause`: the database's own error, if any). */
export function runExistsError(runId: string, cause?: unknown): StorageError {
  return new StorageError('run_exists', `run ${runId} already exists`, runId, undefined, { cause });
}

/** The error for a write that names a run that was never created (`cause`: the database's own error, if any). */
export function unknownRunError(runId: string, cause?: unknown): StorageError {
  return new StorageError('unknown_run', `run ${runId} does not exist; create it before writing its events or results`, runId, undefined, { cause });
}

/** The error for a storage database that cannot be reached; `where` is `host:port/database`, never a password. */
export function storageUnreachableError(where: string, user: string, reason: string, cause?: unknown): StorageError {
  return new StorageError('storage_unreachable', `cannot connect to the Postgres storage at ${where} as ${user}: ${reason}`, undefined, undefined, { cause });
}

/** The error for a storage database whose schema is newer than this Strata's (`where` is `host:port/database`). */
export function schemaNewerError(where: string, theirs: string, ours: string): StorageError {
  return new StorageError(
    'storage_schema_newer',
    `the storage at ${where} has schema version ${theirs}, newer than this Strata's ${ours}: upgrade Strata on this host`,
  );
}

/** The error for a backfill id that is already taken (`cause`: the database's own error, if any). */
export function backfillExistsError(backfillId: string, cause?: unknown): StorageError {
  return new StorageError('backfill_exists', `backfill ${backfillId} already exists`, undefined, backfillId, { cause });
}
