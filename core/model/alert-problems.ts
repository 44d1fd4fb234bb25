import { DefinitionError } from './errors.ts';
import type { AlertRule } from './config/alert-rules.ts';
import type { AssetGraph } from './graph/asset-graph.ts';
import { selectAssets } from './selection/index.ts';

/**
 * Everything wrong with a project's alert rules once its graph is built: names declared twice and
 * selections that do not resolve, each naming the rule (and its `on`) and its file.
 *
 * @example
 * const errors = alertProblems(rules, project.graph);
 */
export function alertProblems(rules: readonly AlertRule[], graph: AssetGraph): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const seen = new Map<string, AlertRule>();
  for (const rule of rules) {
    const context = rule.file === undefined ? {} : { file: rule.file };
    const label = `alert rule ${rule.name} (on: ${rule.on.join(', ')})`;
    const previous = seen.get(rule.name);
    if (previous) {
      errors.push(new DefinitionError('duplicate_alert', `${label} is defined twice (also in ${previous.file ?? 'an earlier module'})`, context));
      continue;
    }
    seen.set(rule.name, rule);
    if (rule.select === undefined) continue;
    try {
      selectAssets(graph, rule.select);
    } catch (error) {
      errors.push(new DefinitionError('alert_invalid', `${label}: select "${rule.select}": ${(error as Error).message}`, context, { cause: error }));
    }
  }
  return errors;
}
