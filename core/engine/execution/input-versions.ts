/**
 * What a run reads, before its steps start: the source assets it reads are observed and their
 * blocking checks run (steps reading a source that fails either are skipped), then the data
 * versions of every upstream asset partition are loaded for the steps' provenance.
 */
import { partitionId } from '../../model/definitions/asset-key.ts';
import type { StrataError } from '../../model/errors.ts';
import type { RunTiming } from '../../model/run-timing.ts';
import type { ResourceSet } from '../../../resources/resource-set.ts';
import type { RunEvents } from './run-events.ts';
import type { RunRecorder } from './run-recorder.ts';
import type { ExecuteRunOptions } from './run-execution-types.ts';
import { observeRunSources, unobservedReasons } from './run-observation.ts';
import { checkRunSources, sourceCheckReasons } from './source-checks.ts';

/** What loading a run's input versions reads and fills in. */
export interface InputVersionsLoad {
  readonly options: ExecuteRunOptions;
  readonly runId: string;
  /** The assets the run's steps write. */
  readonly keys: readonly string[];
  readonly now: Date;
  readonly resources: ResourceSet;
  readonly timing: RunTiming;
  readonly events: RunEvents;
  readonly recorder: RunRecorder;
  /** Filled in: data version of every upstream asset partition, by `key@partition`. */
  readonly dataVersions: Map<string, string>;
  /** Filled in: the sources not observed (retries spent) or whose blocking checks failed, with the error. */
  readonly unobserved: Map<string, StrataError>;
  /** Skips a planned step (and what waits on it) with the reason. */
  readonly skip: (stepId: string, reason: string) => void;
}

/** Observes the source assets the plan reads, then loads the data versions of every upstream asset. */
export async function loadInputVersions(load: InputVersionsLoad): Promise<void> {
  const { options, keys, events, recorder } = load;
  const { project, storage, landing } = options;
  const parents = [...new Set(keys.flatMap((k) => project.graph.parents(k)))];
  if (parents.length === 0) return;
  const sources = parents.filter((k) => project.graph.spec(k).source);
  if (sources.length > 0) {
    const unobserved = await observeRunSources({
      project,
      storage,
      landing,
      sources,
      now: load.now,
      resources: load.resources,
      warehouse: options.warehouse,
      timing: load.timing,
      events,
      append: (appended) => recorder.append(appended),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const [key, error] of unobserved) load.unobserved.set(key, error);
    const reasons = unobservedReasons(project, keys, unobserved);
    const checked = await checkRunSources(
      project,
      options.warehouse,
      sources.filter((k) => !unobserved.has(k)),
      events,
      load.runId,
      load.now,
    );
    if (checked.events.length > 0) {
      await storage.commitStep({ events: checked.events, checkResults: checked.results });
      recorder.told(checked.events);
    }
    for (const [key, error] of checked.failed) load.unobserved.set(key, error);
    for (const [key, reason] of sourceCheckReasons(project, keys, checked.failed)) if (!reasons.has(key)) reasons.set(key, reason);
    for (const step of options.plan.steps) {
      const reason = reasons.get(step.key);
      if (reason !== undefined) load.skip(step.id, reason);
    }
    for (const o of await storage.latestObservations(sources)) load.dataVersions.set(partitionId(o.assetKey, o.partition), o.dataVersion);
  }
  for (const m of await storage.latestMaterializations(parents.filter((k) => !project.graph.spec(k).source))) {
    load.dataVersions.set(partitionId(m.assetKey, m.partition), m.dataVersion);
  }
}
