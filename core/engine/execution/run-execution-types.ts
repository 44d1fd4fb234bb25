/**
 * The types of one run's execution: what `executeRun` takes (ExecuteRunOptions) and what it
 * gives back (RunResult, one StepOutcome a step). Re-exported by executor.ts, where importers
 * find them.
 */
import type { Project } from '../../model/project.ts';
import type { Plan } from '../../model/planning/plan.ts';
import type { Warehouse } from '../../../resources/warehouse.ts';
import type { EventRecord, RunStatus, RunTrigger, Storage } from '../../../storage/storage.ts';
import type { LandingZone } from '../../model/definitions/asset-context.ts';
import type { HeartbeatSettings } from '../../model/config/heartbeat-settings.ts';
import type { RunTiming } from '../../model/run-timing.ts';
import type { RecordedEventListener } from './run-events.ts';
import type { LeaseConflictPolicy } from './run-leases.ts';

/** Everything one run needs. */
export interface ExecuteRunOptions {
  readonly project: Project;
  readonly plan: Plan;
  readonly storage: Storage;
  readonly warehouse: Warehouse;
  readonly landing: LandingZone;
  /** The selection string, recorded on the run. */
  readonly selection: string;
  readonly trigger?: RunTrigger;
  /** Steps run at once (default: the project's `concurrency`). */
  readonly concurrency?: number;
  /** Aborting cancels the run: running steps roll back, the rest are skipped. */
  readonly signal?: AbortSignal;
  /** Called for every event as it is recorded (progress output, live UI), and for `step_progress` events, which are not recorded. */
  readonly onEvent?: (event: EventRecord) => void;
  /**
   * Told of every recorded event, after it is recorded (OpenLineage, alerts; see
   * run-observers.ts). Separate from `onEvent`, which also switches on step-progress watching.
   */
  readonly observers?: readonly RecordedEventListener[];
  /** Called when a step ends, with its outcome (progress bars). */
  readonly onStepEnd?: (outcome: StepOutcome) => void;
  readonly runId?: string;
  /**
   * The run `runId` is already recorded as running (a worker claimed it from the queue): it is
   * not created again (default: the executor creates it).
   */
  readonly claimed?: boolean;
  /**
   * Called just before each step publishes its data (a worker's run checks there that no other
   * process reaped and retried it meanwhile); a `CanceledError` thrown cancels the step unpublished.
   */
  readonly beforePublish?: () => Promise<void>;
  readonly tags?: Readonly<Record<string, string>>;
  /** The clock for partition mappings (default: now). */
  readonly now?: Date;
  /** `--full-refresh`: incremental assets are rebuilt from scratch instead of merged into. */
  readonly fullRefresh?: boolean;
  /** With `fullRefresh`: the snapshots whose history `--force` allows dropping (rebuilt from scratch). */
  readonly forcedSnapshots?: readonly string[];
  /**
   * When another live run holds a lease on a partition a step writes: `wait` until it is free
   * (default; logged once per holder) or `skip` the step (and what waits on it) with the reason.
   */
  readonly onLeaseConflict?: LeaseConflictPolicy;
  /** Heartbeat interval and timeout (default: the project's `heartbeat`). */
  readonly heartbeat?: Partial<HeartbeatSettings>;
  /** Between two lease attempts while waiting (default 500 ms). */
  readonly leasePollMs?: number;
  /** Clock, sleeps, timers and randomness of retries, lease waits and heartbeats (tests inject fakes). */
  readonly timing?: Partial<RunTiming>;
}

/** How one step ended. */
export type StepStatus = 'success' | 'failed' | 'skipped' | 'canceled';

/** The outcome of one step. */
export interface StepOutcome {
  readonly id: string;
  readonly key: string;
  readonly partitions: readonly string[] | null;
  readonly status: StepStatus;
  readonly error?: string;
  /**
   * The step failed on bad input, not retried: a definition error found when its query was bound
   * (e.g. a snapshot's unknown column) or a resource's bad configuration (an `env:` variable not set). Exit code 2.
   */
  readonly definitionError?: true;
  readonly rowCount?: number | null;
  readonly durationMs: number;
}

/** The outcome of a run, steps in plan order. */
export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly steps: readonly StepOutcome[];
  readonly error?: string;
}
