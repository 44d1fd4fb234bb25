/**
 * `--vars`, as dbt writes it: a YAML (or JSON) mapping of var names to values
 * (`--vars '{start_date: 2024-01-01}'`, `--vars 'region: eu'`). Its values override the `vars:`
 * of `dbt_project.yml`, global and project-scoped alike, as in dbt.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { isObject } from '../../model/dbt/dbt-config.ts';
import { UsageError } from '../../model/errors.ts';

/** The option's name, as messages write it. */
export const VARS_OPTION = '--vars';

/**
 * The vars of `text`; a {@link UsageError} naming `--vars` when it is not YAML or not a mapping.
 *
 * @example
 * parseDbtVars('{start_date: 2024-01-01, regions: [eu, us]}'); // { start_date: '2024-01-01', regions: ['eu', 'us'] }
 */
export function parseDbtVars(text: string): Readonly<Record<string, unknown>> {
  const yaml = createRequire(import.meta.url)('yaml') as typeof Yaml;
  let value: unknown;
  try {
    value = yaml.parse(text);
  } catch (error) {
    throw new UsageError(`${VARS_OPTION} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, VARS_OPTION, { cause: error });
  }
  if (!isObject(value)) {
    const got = value === null || value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`;
    throw new UsageError(`${VARS_OPTION} must be a YAML mapping of var names to values, such as '{start_date: 2024-01-01}' (got ${got})`, VARS_OPTION);
  }
  return Object.freeze({ ...value });
}
