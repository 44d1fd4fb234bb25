/**
 * What a {@link RunLauncher} takes and reports: a launch (a planned materialization with its
 * pools and partitions), its outcome, and who listens; plus the small helpers the launcher
 * uses on them.
 */
import type { ExecuteRunOptions } from '../execution/executor.ts';
import type { FullRefreshRequest } from '../execution/full-refresh-request.ts';
import type { Project } from '../../model/project.ts';
import type { Plan } from '../../model/planning/plan.ts';
import type { EventRecord, RunRecord, RunTrigger } from '../../../storage/storage.ts';
import type { RunLauncher } from './run-launcher.ts';

/** Who hears about the runs a {@link RunLauncher} starts (the UI's live event stream). */
export interface LaunchListener {
  /** A run was accepted; it is `queued` until this process starts it. */
  runQueued(run: RunRecord): void;
  /** Something of this run changed in storage (an event was recorded, it ended). */
  runActivity(runId: string): void;
  /** An event that is never stored (`step_progress`), to pass on as it is. */
  liveEvent(event: EventRecord): void;
}

/** Asset key → the partitions a launch writes (`[null]` for an unpartitioned asset). */
export type LaunchPartitions = ReadonlyMap<string, readonly (string | null)[]>;

/** A materialization to launch. */
export interface RunLaunch {
  /** Default: a new UUID. */
  readonly runId?: string;
  readonly plan: Plan;
  /** The selection recorded on the run. */
  readonly selection: string;
  readonly trigger: Exclude<RunTrigger, 'backfill'>;
  /** The clock of the plan (which partitions exist). */
  readonly now: Date;
  readonly tags?: Readonly<Record<string, string>>;
  /** Pools the run holds a slot of while it runs (default: none). */
  readonly pools?: readonly string[];
  /** What the run writes, for {@link RunLauncher.inFlight} (default: nothing listed). */
  readonly partitions?: LaunchPartitions;
  /** A full refresh (checked): incremental assets rebuilt, the forced snapshots too. */
  readonly refresh?: FullRefreshRequest;
  /** Steps at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  readonly onLeaseConflict?: ExecuteRunOptions['onLeaseConflict'];
  /**
   * When the run is refused for a definition error (a check naming a missing column), record a
   * step failure for each asset the error names, so automation sees them failed (the daemon).
   */
  readonly failRefusedSteps?: boolean;
  /** The project as the run starts (default: the service's); the daemon's re-hashes edited seeds. */
  readonly project?: () => Project;
}

/** A launch with its id, as the launcher reports it. */
export type LaunchedRun = RunLaunch & { readonly runId: string };

/** How a launch ended: a run's status, or a backfill's under its id. */
export interface LaunchedRunOutcome {
  readonly runId: string;
  readonly status: string;
  readonly error?: string;
}

/** Routes a run's event to `listener`: live-only events as they are, the rest as storage activity. */
export function tell(listener: LaunchListener, event: EventRecord): void {
  if (event.type === 'step_progress') listener.liveEvent(event);
  else listener.runActivity(event.runId);
}

/** The executor's and backfill runner's options for a full refresh (none without one). */
export function refreshOptions(refresh: FullRefreshRequest | undefined): { fullRefresh?: true; forcedSnapshots?: readonly string[] } {
  return refresh?.fullRefresh ? { fullRefresh: true, forcedSnapshots: refresh.forcedSnapshots } : {};
}

/** The record with this id, or the only one whose id starts with it. */
export function byPrefix<T>(records: ReadonlyMap<string, T>, id: string): T | undefined {
  const exact = records.get(id);
  if (exact !== undefined) return exact;
  const matches = [...records.keys()].filter((key) => key.startsWith(id));
  return matches.length === 1 ? records.get(matches[0] as string) : undefined;
}
