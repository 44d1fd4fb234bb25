/**
 * A dbt project's seeds (`seeds/*.csv`) as Strata seeds: their configs from `dbt_project.yml`
 * folders and their `schema.yml` entry (`column_types`, `enabled`, `event_time`), and the kind,
 * checks and descriptions the entry gives them.
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { folderConfigs, isObject } from '../../model/dbt/dbt-config.ts';
import { DBT_KIND } from '../../model/dbt/dbt-model-mapping.ts';
import { makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { CheckSpec } from '../../model/definitions/check-spec.ts';
import { contentHashOf, seedDefinition, seedKey } from '../../model/definitions/seed-asset.ts';
import { keyProblem } from '../../model/definitions/asset-key.ts';
import type { DbtProjectFiles, DbtYamlEntry } from './dbt-project-files.ts';
import { columnDescriptions, describe } from './dbt-descriptions.ts';

/** The seeds of the project, with their `column_types` (from `dbt_project.yml` and `schema.yml`). */
export function loadDbtSeeds(files: DbtProjectFiles, errors: DefinitionError[]): { name: string; definition: AssetDefinition; eventTime?: string }[] {
  const seeds: { name: string; definition: AssetDefinition; eventTime?: string }[] = [];
  for (const seed of files.seeds) {
    const name = seed.relative.slice(0, -'.csv'.length).split('/').pop() as string;
    const problem = keyProblem(seedKey(name));
    if (problem !== undefined) {
      errors.push(new DefinitionError('seed_name_invalid', `${problem} (the key comes from the seed's file name)`, { file: seed.display }));
      continue;
    }
    const levels = folderConfigs(files.project.seeds, files.name, seed.relative.split('/').slice(0, -1).concat(name));
    const entry = files.seedEntries.get(name);
    if (entry !== undefined && isObject(entry.entry.config)) levels.push(entry.entry.config);
    const columnTypes: Record<string, string> = {};
    let enabled = true;
    let eventTime: string | undefined;
    for (const level of levels) {
      for (const [config, value] of Object.entries(level)) {
        if (config === 'column_types' && isObject(value)) Object.assign(columnTypes, value);
        // The column a microbatch model filters the seed's rows on, for its batch.
        else if (config === 'event_time' && typeof value === 'string') eventTime = value;
        else if (config === 'enabled' && typeof value === 'boolean') enabled = value;
        // Documentation only: nothing built changes.
        else if (config !== 'docs' && config !== 'meta')
          errors.push(
            new DefinitionError('dbt_config_invalid', `seed config "${config}" is not supported yet`, { assetKey: seedKey(name), file: seed.display }),
          );
      }
    }
    if (!enabled) continue;
    const content = readFileSync(seed.path);
    seeds.push({
      name,
      definition: seedDefinition({
        name,
        path: seed.path,
        displayFile: seed.display,
        contentHash: contentHashOf(content),
        columnTypes: columnTypes as Record<string, string>,
      }),
      ...(eventTime === undefined ? {} : { eventTime }),
    });
  }
  return seeds;
}

/** A seed with kind `dbt`, its `checks`, and the description of its `schema.yml` entry. */
export function seedWithYaml(
  definition: AssetDefinition,
  yaml: DbtYamlEntry | undefined,
  files: DbtProjectFiles,
  errors: DefinitionError[],
  checks: readonly CheckSpec[],
): AssetDefinition {
  const kinds = Object.freeze([...definition.spec.kinds, DBT_KIND]);
  if (yaml === undefined)
    return makeDefinition(
      Object.freeze({ ...definition.spec, kinds, ...(checks.length === 0 ? {} : { checks: Object.freeze([...checks]) }) }),
      definition.compute,
      definition.file,
    );
  const context = { assetKey: definition.spec.key, file: yaml.file };
  const description = describe(yaml.entry.description, files, (message) => errors.push(new DefinitionError('dbt_yaml_invalid', message, context)));
  const columns = columnDescriptions(yaml.entry, files, (message) => errors.push(new DefinitionError('dbt_yaml_invalid', message, context)));
  const spec = Object.freeze({
    ...definition.spec,
    kinds,
    checks: Object.freeze(checks),
    ...(description === undefined ? {} : { description }),
    ...(Object.keys(columns).length === 0 ? {} : { columnDescriptions: columns }),
  });
  return makeDefinition(spec, definition.compute, definition.file);
}
