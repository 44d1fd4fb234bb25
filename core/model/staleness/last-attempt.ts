import type { MaterializationRecord, StepFailureRecord } from '../../../storage/storage.ts';

/**
 * True when an asset partition's last attempt failed: its latest failure is newer than its
 * latest materialization, or it failed and was never materialized.
 */
export function lastAttemptFailed(latest: Pick<MaterializationRecord, 'timestamp'> | undefined, failure: StepFailureRecord | undefined): boolean {
  return failure !== undefined && (latest === undefined || failure.timestamp > latest.timestamp);
}
