import { createHash } from 'node:crypto';
import { StrataError, DefinitionErrors } from './errors.ts';
import type { AssetDefinition } from './definitions/asset-spec.ts';
import type { ScheduleDefinition } from './definitions/schedule-definition.ts';
import { codeVersionOf } from './definitions/code-version.ts';
import { scheduleProblems } from './schedule-problems.ts';
import type { AlertRule } from './config/alert-rules.ts';
import { alertProblems } from './alert-problems.ts';
import { AssetGraph } from './graph/asset-graph.ts';
import { compareKeys } from './collections/key-compare.ts';
import type { ProjectConfig } from './config/project-config.ts';

/** A loaded, validated project: its configuration, definitions and graph. */
export interface Project {
  readonly config: ProjectConfig;
  readonly definitions: ReadonlyMap<string, AssetDefinition>;
  readonly graph: AssetGraph;
  /** Code version of every asset (explicit, or derived from its source). */
  readonly codeVersions: ReadonlyMap<string, string>;
  /** Hash of every asset's key and deps: identifies this shape of the graph in lineage storage. */
  readonly definitionVersion: string;
  /** The schedules the project's modules export, sorted by name. */
  readonly schedules: readonly ScheduleDefinition[];
  /** Alert rules: strata.json's `"alerts"` first, then those the modules export, sorted by name. */
  readonly alerts: readonly AlertRule[];
}

/** The definition of one asset; throws for unknown keys. */
export function definitionOf(project: Project, key: string): AssetDefinition {
  const definition = project.definitions.get(key);
  if (!definition) throw new StrataError('unknown_asset', `unknown asset "${key}"`, { assetKey: key });
  return definition;
}

/**
 * Assembles a project from definitions already validated (by {@link loadProject}, or built in
 * code by tests and benchmarks). Throws {@link DefinitionErrors} for unknown deps and cycles.
 */
export function buildProject(
  config: ProjectConfig,
  list: readonly AssetDefinition[],
  schedules: readonly ScheduleDefinition[] = [],
  alerts: readonly AlertRule[] = [],
): Project {
  const definitions = new Map(list.map((d) => [d.spec.key, d]));
  const graph = AssetGraph.build(
    list.map((d) => d.spec),
    (key) => definitions.get(key)?.file,
  );
  const codeVersions = new Map(graph.keys.map((key) => [key, codeVersionOf(definitions.get(key) as AssetDefinition)]));
  const shape = graph.keys.map((key) => `${key}<-${graph.parents(key).join(',')}`).join('\n');
  const definitionVersion = createHash('sha256').update(shape).digest('hex').slice(0, 16);
  const rules = [...(config.alerts ?? []), ...[...alerts].sort((a, b) => compareKeys(a.name, b.name))];
  const problems = [...scheduleProblems(schedules, graph), ...alertProblems(rules, graph)];
  if (problems.length > 0) throw new DefinitionErrors(problems);
  const sortedSchedules = Object.freeze([...schedules].sort((a, b) => compareKeys(a.name, b.name)));
  return { config, definitions, graph, codeVersions, definitionVersion, schedules: sortedSchedules, alerts: Object.freeze(rules) };
}
