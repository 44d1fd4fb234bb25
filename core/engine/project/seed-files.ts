import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DefinitionError } from '../../model/errors.ts';
import { keyProblem } from '../../model/definitions/asset-key.ts';
import { compareKeys } from '../../model/collections/key-compare.ts';
import { contentHashOf, csvHeader, seedDefinition, seedKey } from '../../model/definitions/seed-asset.ts';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { ProjectConfig } from '../../model/config/project-config.ts';
import { CONFIG_FILE } from '../../model/config/project-config.ts';

/** How much of a seed file is decoded to read its header row. */
const HEADER_BYTES = 1 << 20;

/**
 * The seeds of a project: one definition per `.csv` file under the seeds folder (subfolders
 * included; other files, names starting with `.` and `node_modules` are ignored). Problems are pushed on
 * `errors`, each naming the file or the strata.json field: a file name that is not a valid key
 * segment, column types for a seed that does not exist or for a column its header does not
 * have, a seeds folder named in strata.json that does not exist.
 */
export function loadSeeds(config: ProjectConfig, errors: DefinitionError[]): AssetDefinition[] {
  const settings = config.seeds;
  if (settings === undefined) return [];
  const located = (path: string) => relative(config.dir, path).split(sep).join('/') || path;
  const field = (path: string) => ({ file: CONFIG_FILE, argument: path });
  const files = listCsvFiles(settings.dir);
  if (files === undefined) {
    if (settings.explicit)
      errors.push(
        new DefinitionError(
          'seeds_dir_missing',
          `the seeds folder ${located(settings.dir)} ("seeds" in ${CONFIG_FILE}) does not exist or is not a folder`,
          field('seeds'),
        ),
      );
    return [];
  }
  const definitions: AssetDefinition[] = [];
  const seen = new Set<string>();
  for (const path of files) {
    const display = located(path);
    const name = relative(settings.dir, path).split(sep).join('/').slice(0, -'.csv'.length);
    seen.add(name);
    const problem = keyProblem(seedKey(name));
    if (problem !== undefined) {
      errors.push(new DefinitionError('seed_name_invalid', `${problem} (the key comes from the seed's file name)`, { file: display }));
      continue;
    }
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (error) {
      errors.push(
        new DefinitionError(
          'seed_unreadable',
          `cannot read this seed file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          { assetKey: seedKey(name), file: display },
          { cause: error },
        ),
      );
      continue;
    }
    const columnTypes = settings.columnTypes[name] ?? {};
    // The header is on the first line: decode only the start of a large file.
    const header = csvHeader(content.subarray(0, HEADER_BYTES).toString('utf8'));
    const names = new Set(header.map((column) => column.toLowerCase()));
    for (const column of Object.keys(columnTypes)) {
      // DuckDB matches the names of `types` without regard to case; so does this check.
      if (names.has(column.toLowerCase())) continue;
      const message = `"seeds.columnTypes.${name}" in ${CONFIG_FILE} types column "${column}", which ${display} does not have (its header: ${header.length === 0 ? 'none' : header.join(', ')})`;
      errors.push(new DefinitionError('seed_column_unknown', message, { assetKey: seedKey(name), file: display }));
    }
    definitions.push(seedDefinition({ name, path, displayFile: display, contentHash: contentHashOf(content), columnTypes }));
  }
  for (const name of Object.keys(settings.columnTypes)) {
    if (seen.has(name)) continue;
    const message = `"seeds.columnTypes" in ${CONFIG_FILE} names the seed "${name}", but there is no ${located(join(settings.dir, `${name}.csv`))}`;
    errors.push(new DefinitionError('seed_unknown', message, field(`seeds.columnTypes.${name}`)));
  }
  return definitions;
}

/** The `.csv` files under `dir`, sorted; `undefined` when `dir` is not a folder. */
function listCsvFiles(dir: string): string[] | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      // A link to a file counts; a link to a folder is not followed (it could lead back up).
      else if (entry.name.toLowerCase().endsWith('.csv') && statSync(path, { throwIfNoEntry: false })?.isFile()) files.push(path);
    }
  };
  walk(dir);
  return files.sort(compareKeys);
}
