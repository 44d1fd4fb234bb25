import { DefinitionError } from './errors.ts';
import type { ScheduleDefinition } from './definitions/schedule-definition.ts';
import type { AssetGraph } from './graph/asset-graph.ts';
import { selectAssets } from './selection/index.ts';

/**
 * Everything wrong with a project's schedules once its graph is built: names declared twice
 * and selections that do not resolve (unknown keys with suggestions, globs matching nothing),
 * each naming the schedule and its file.
 *
 * @example
 * const errors = scheduleProblems(schedules, project.graph);
 */
export function scheduleProblems(schedules: readonly ScheduleDefinition[], graph: AssetGraph): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const seen = new Map<string, ScheduleDefinition>();
  for (const schedule of schedules) {
    const context = schedule.file === undefined ? {} : { file: schedule.file };
    const previous = seen.get(schedule.name);
    if (previous) {
      errors.push(
        new DefinitionError('duplicate_schedule', `schedule "${schedule.name}" is defined twice (also in ${previous.file ?? 'an earlier module'})`, context),
      );
      continue;
    }
    seen.set(schedule.name, schedule);
    try {
      selectAssets(graph, schedule.selection);
    } catch (error) {
      errors.push(
        new DefinitionError('schedule_invalid', `schedule "${schedule.name}": selection "${schedule.selection}": ${(error as Error).message}`, context, {
          cause: error,
        }),
      );
    }
  }
  return errors;
}
