/**
 * Exactly-once recording of step commits. A step publishes its data in one DuckDB transaction
 * that also inserts a row into the warehouse's `_strata.commits` holding everything storage
 * records for the step (its events, materializations and check results); storage records the
 * step next, and the row is deleted once it has. If the process dies (or storage fails) between
 * the two commits, the row stays, and {@link recoverCommits} records it the next time a run
 * starts on the warehouse (every run calls it first, in the CLI, the daemon and the UI).
 */

import { randomUUID } from 'node:crypto';
import type { PlanStep } from '../../model/planning/plan.ts';
import { partitionId } from '../../model/definitions/asset-key.ts';
import type { StepSession, Warehouse } from '../../../resources/warehouse.ts';
import { commitLogOf, type CommitLog } from '../../../resources/warehouse-commit-log.ts';
import { runEnded, type EventRecord, type MaterializationRecord, type RunRecord, type Storage, type StepCommit } from '../../../storage/storage.ts';
import { StrataError } from '../../model/errors.ts';
import { faultPoint } from './fault-hook.ts';
import { RunEvents } from './run-events.ts';
import { messageOf } from './step-helpers.ts';

/** What {@link recoverCommits} found: one published step commit whose record was missing. */
export interface RecoveredCommit {
  readonly runId: string;
  readonly stepId: string;
  readonly assetKey: string;
  /** Materializations recorded from it now (0 when storage already had them or newer ones). */
  readonly recorded: number;
  /** When the step committed in the warehouse (epoch ms). */
  readonly committedAt: number;
}

/**
 * Writes the warehouse's record of a step commit into the step's transaction (before its
 * COMMIT); returns the commit id to pass to {@link publishStep}. A step that issued no
 * statement has no transaction to join: it gets no row, and `undefined`.
 */
export async function writeStepCommit(
  warehouse: Warehouse,
  session: StepSession,
  runId: string,
  step: PlanStep,
  commit: StepCommit,
): Promise<string | undefined> {
  if (!session.used) return undefined;
  const commitId = randomUUID();
  const record = JSON.stringify({ events: commit.events, materializations: commit.materializations ?? [], checkResults: commit.checkResults ?? [] });
  await commitLogOf(warehouse).write(session, {
    commitId,
    runId,
    stepId: step.id,
    assetKey: step.key,
    partitions: step.partitions,
    committedAt: Date.now(),
    record,
  });
  return commitId;
}

/** A step's data was published in the warehouse, but storage could not record it: the next run records it. */
export class UnrecordedStepError extends StrataError {
  constructor(assetKey: string, cause: unknown) {
    super('step_not_recorded', `published in the warehouse but not recorded (${messageOf(cause)}): the next run records it`, { assetKey }, false, { cause });
  }
}

/**
 * Commits the step's transaction (publishing its data and, when it has one, the row of
 * {@link writeStepCommit}), then records the step in storage with `record`. Until that settles,
 * {@link recoverCommits} in this process leaves the row alone; afterwards the row is deleted by
 * {@link forgetStepCommits} (a run does that for all its steps at once when it ends), or, when
 * storage failed ({@link UnrecordedStepError}), recovered by the next step that writes in this
 * process, or the next run.
 */
export async function publishStep(
  warehouse: Warehouse,
  session: StepSession,
  key: string,
  commitId: string | undefined,
  record: () => Promise<void>,
): Promise<void> {
  const log = commitLogOf(warehouse);
  try {
    await session.commit();
  } catch (error) {
    if (commitId !== undefined) log.settle(commitId, false); // nothing was published
    throw error;
  }
  faultPoint('after-warehouse-commit');
  if (commitId === undefined) return record();
  try {
    await record();
  } catch (error) {
    log.settle(commitId, true);
    throw new UnrecordedStepError(key, error);
  }
  log.settle(commitId, false);
}

/** Deletes the warehouse rows of step commits storage has recorded; never throws (a row left over is recovered as a no-op). */
export async function forgetStepCommits(warehouse: Warehouse, commitIds: readonly string[]): Promise<void> {
  if (commitIds.length === 0) return;
  const log = commitLogOf(warehouse);
  try {
    // Never beside a recovery, which may delete the same rows (DuckDB would refuse one delete).
    await log.exclusive(() => log.delete(commitIds));
  } catch {
    // Recovery finds storage has them and deletes the rows then.
  }
}

/**
 * True when a run of this process published a step commit it could not record: the executor then
 * recovers before a step writes, so that a partition's records keep the order of its writes.
 */
export function hasUnrecordedCommits(warehouse: Warehouse): boolean {
  return commitLogOf(warehouse).hasUnrecorded;
}

/**
 * Creates `_strata.commits` when it is missing (so that steps can write their commits), then
 * records every published step commit of `warehouse` that storage is missing and deletes the
 * rows. Each is recorded in its own run (which may already be failed, reaped as dead: it stays
 * so), with its original events and a `log` event saying it was recovered; its materializations
 * take the recovery time as their timestamp and so the next numbers of the data sequence, so
 * they count as newer than the failure the run may have recorded and staleness sees them.
 *
 * Idempotent, partition by partition: a partition whose latest materialization in storage is at
 * least as new as the commit's (the commit itself, recorded before its row was deleted) is not
 * recorded again. Rows are recovered before any later write of their partitions is recorded (each
 * run recovers first; a step recovers first when this process left a commit unrecorded), so a
 * newer record is always this one. A commit whose run storage does not know (storage was
 * replaced) is dropped. Safe while other runs of this process are going: their commits being
 * recorded are left alone, and no other process can be between the two commits of a step while
 * this one holds the DuckDB warehouse file (on a Postgres warehouse, which several processes
 * write, rows of runs still running are left to their process until the run ends or is reaped);
 * recoveries of one warehouse run one after the other.
 *
 * @example
 * for (const c of await recoverCommits(storage, warehouse)) console.warn(`recovered ${c.stepId} of run ${c.runId}`);
 */
export async function recoverCommits(storage: Storage, warehouse: Warehouse, now: () => number = Date.now): Promise<RecoveredCommit[]> {
  const log = commitLogOf(warehouse);
  await log.ensure();
  return log.exclusive(() => log.acrossProcesses(() => recoverPending(storage, log, now)));
}

async function recoverPending(storage: Storage, log: CommitLog, now: () => number): Promise<RecoveredCommit[]> {
  const rows = await log.pending();
  if (rows.length === 0) return [];
  // The runs first, then what storage has: a run that ends in between recorded its steps before
  // it ended, so the materializations read next include them (read the other way round, a run
  // seen ended with its records read from before would have its steps recorded twice).
  const runs = new Map<string, RunRecord | undefined>();
  for (const row of rows) if (!runs.has(row.runId)) runs.set(row.runId, await storage.getRun(row.runId));
  const latest = new Map<string, number>();
  for (const m of await storage.latestMaterializations([...new Set(rows.map((r) => r.assetKey))]))
    latest.set(partitionId(m.assetKey, m.partition), m.timestamp);
  const recovered: RecoveredCommit[] = [];
  const done: string[] = [];
  for (const row of rows) {
    const commit = JSON.parse(row.record) as Required<Omit<StepCommit, 'releaseLeases'>>;
    const run = runs.get(row.runId);
    if (run === undefined) {
      done.push(row.commitId);
      continue;
    }
    // A shared (Postgres) warehouse: another process's running run records its own commits; once it has ended (or was reaped), they are orphans.
    if (log.sharedByProcesses && !runEnded(run.status) && !log.leftUnrecordedHere(row.commitId)) continue;
    const missing = commit.materializations.filter((m) => (latest.get(partitionId(m.assetKey, m.partition)) ?? -Infinity) < m.timestamp);
    if (missing.length > 0) {
      const at = now();
      const materializations: MaterializationRecord[] = missing.map((m) => ({ ...m, timestamp: at }));
      // Part of the step was written again since: only its missing partitions are recorded, without the step's events.
      const whole = missing.length === commit.materializations.length;
      await storage.commitStep({
        events: [...(whole ? commit.events : []), recoveryEvent(row.runId, row.assetKey, row.partitions, row.stepId, row.committedAt, missing.length, at)],
        materializations,
        ...(whole ? { checkResults: commit.checkResults } : {}),
      });
      for (const m of materializations) latest.set(partitionId(m.assetKey, m.partition), at);
    }
    done.push(row.commitId);
    recovered.push({ runId: row.runId, stepId: row.stepId, assetKey: row.assetKey, recorded: missing.length, committedAt: row.committedAt });
  }
  await log.delete(done);
  return recovered.filter((r) => r.recorded > 0);
}

function recoveryEvent(
  runId: string,
  key: string,
  partitions: readonly string[] | null,
  stepId: string,
  committedAt: number,
  recorded: number,
  at: number,
): EventRecord {
  const partition = partitions?.length === 1 ? (partitions[0] as string) : null;
  const message = `recovered the commit of ${stepId}: its data was published in the warehouse at ${new Date(committedAt).toISOString()} but the run stopped before recording it (${recorded} materialization${recorded === 1 ? '' : 's'} recorded now)`;
  return new RunEvents(runId, () => at).step('log', key, partition, message, 'warn', { recovered: true, committedAt, recorded });
}
