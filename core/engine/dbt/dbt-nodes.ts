import type { ProjectConfig } from '../../model/config/project-config.ts';
import type { DefinitionError } from '../../model/errors.ts';
import type { DbtNode } from './dbt-project-loader.ts';

/**
 * The dbt nodes of a project and the assets they became (`assets dbt ls`), or `undefined` when
 * the project includes no dbt project. Reads the dbt project again: call it on a project that
 * loaded, so it has no problems to report.
 */
export async function listDbtNodes(config: ProjectConfig): Promise<readonly DbtNode[] | undefined> {
  if (config.dbtDir === undefined) return undefined;
  const { dbtTarget, loadDbtProject } = await import('./dbt-project-loader.ts');
  const errors: DefinitionError[] = [];
  return loadDbtProject(config.dbtDir, config.dir, dbtTarget(config), errors, undefined, config.dbtVars).nodes;
}
