/**
 * Observers of runs: what learns of every recorded event of the runs a RunService starts
 * (OpenLineage emission, alerts), built from the project's configuration in one place,
 * {@link projectRunObservers}, wherever a RunService is made (the CLI's workspace, the daemon,
 * the UI). None of them may fail or slow a run: they are told synchronously and queue their I/O.
 */
import type { EventRecord, MaterializationRecord, Storage } from '../../../storage/storage.ts';
import type { Project } from '../../model/project.ts';
import { openLineageObservers } from '../openlineage/openlineage-observer.ts';
import { tellRecorded } from '../execution/run-events.ts';
import { AlertObserver } from '../alerts/alert-observer.ts';
import { DEFAULT_UI_URL } from '../../model/config/project-config.ts';

/**
 * Something told about every recorded event of the runs a RunService starts (OpenLineage
 * emission, alerts). Never told of `step_progress` (live-only) events.
 */
export interface RunObserver {
  /** Called synchronously, in order, after each event is recorded. Must not throw nor block: queue any I/O. */
  onRunEvent(event: EventRecord): void;
  /** Called synchronously with the materializations a step committed, before its events. Must not throw nor block. */
  onMaterializations?(records: readonly MaterializationRecord[]): void;
  /** Delivers what is queued in the background, waiting at most `timeoutMs`; called before the process exits. */
  flush(timeoutMs: number): Promise<void>;
}

/** What observers may use besides the project. */
export interface RunObserverContext {
  /** The storage the runs are recorded in (read in the background, never while a run waits). */
  readonly storage: () => Promise<Storage>;
  /** Where news for a person goes (an endpoint down), each piece said once. */
  readonly notice: (message: string) => void;
}

/** How long a process waits for its observers' deliveries when it closes. */
export const OBSERVER_FLUSH_MS = 2_000;

/**
 * Every observer the project's configuration asks for (`"openlineage"`, `OPENLINEAGE_URL`, …).
 *
 * @example
 * const service = new RunService({ project, storage, observers: projectRunObservers(project, { storage: () => storage, notice }) });
 */
export function projectRunObservers(project: Project, context: RunObserverContext): RunObserver[] {
  return [...openLineageObservers(project, context), ...alertObservers(project, context)];
}

/** The alert observer of the project's alert rules (none without rules). */
function alertObservers(project: Project, context: RunObserverContext): RunObserver[] {
  if (project.alerts.length === 0) return [];
  const uiUrl = project.config.uiUrl ?? DEFAULT_UI_URL;
  return [new AlertObserver({ rules: project.alerts, graph: project.graph, storage: context.storage, notice: context.notice, uiUrl })];
}

/** Tells each observer of recorded `events`, in order; an observer that throws is not the run's problem. */
export function tellObservers(observers: readonly RunObserver[] | undefined, events: readonly EventRecord[]): void {
  tellRecorded(observers, events);
}

/** Flushes every observer at once, waiting at most `timeoutMs`; never rejects. */
export async function flushObservers(observers: readonly RunObserver[], timeoutMs = OBSERVER_FLUSH_MS): Promise<void> {
  await Promise.all(observers.map((o) => o.flush(timeoutMs).catch(() => undefined)));
}
