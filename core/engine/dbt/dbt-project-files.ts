/**
 * Reads a dbt project's files: `dbt_project.yml`, the models, `schema.yml` files, macros, docs
 * blocks and seeds. Problems (YAML that does not parse, features Strata does not run yet) are
 * pushed on `errors`, naming the file.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { DefinitionError } from '../../model/errors.ts';
import { compareKeys } from '../../model/collections/key-compare.ts';
import { isObject } from '../../model/dbt/dbt-config.ts';
import { DBT_PROJECT_FILE } from '../../model/config/project-config.ts';
import type { DbtLoadCache } from './dbt-load-cache.ts';

/** The YAML parser, loaded on first use: a warm load reads every file's value from the cache. */
let yamlParse: typeof Yaml.parse | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof Yaml).parse;
  return yamlParse(text);
}

/** A file of the dbt project: its absolute path, how messages name it, its path under its root folder. */
export interface DbtFile {
  readonly path: string;
  readonly display: string;
  /** Under its root (`models/`, `seeds/`…), with `/` separators. */
  readonly relative: string;
}

/** A `schema.yml` entry of a model or seed, with the file it is in. */
export interface DbtYamlEntry {
  readonly entry: Readonly<Record<string, unknown>>;
  readonly file: string;
  /** The file's folders under its model, seed or snapshot folder: its tests' folder configs are theirs. */
  readonly folders: readonly string[];
}

/** A dbt source table: the relation `source()` renders. */
export interface DbtSourceTable {
  readonly schema: string;
  readonly identifier: string;
  /** `config: { event_time }` of the table (else of its source): microbatch models read its batch's rows only. */
  readonly eventTime?: string;
}

/** A `sources:` entry of a YAML file, with the file it is in. */
export interface DbtSourceEntry extends DbtYamlEntry {
  /** The file's absolute path (to name a problem's line). */
  readonly path: string;
}

/** Everything read from a dbt project folder. */
export interface DbtProjectFiles {
  readonly name: string;
  readonly dir: string;
  /** `dbt_project.yml` as messages name it. */
  readonly projectFile: string;
  readonly project: Readonly<Record<string, unknown>>;
  readonly models: readonly DbtFile[];
  readonly macros: readonly DbtFile[];
  /** The macro files of each installed package (`dbt_packages/<package>/macros/`, or `packages-install-path`), by package. */
  readonly packageMacros: ReadonlyMap<string, readonly DbtFile[]>;
  readonly seeds: readonly DbtFile[];
  /** Singular tests: the `.sql` files of the test folders. */
  readonly tests: readonly DbtFile[];
  /** The `.sql` files of the snapshot folders (`{% snapshot %}` blocks). */
  readonly snapshots: readonly DbtFile[];
  /** Models and seeds of the `schema.yml` files, by name. */
  readonly modelEntries: ReadonlyMap<string, DbtYamlEntry>;
  readonly seedEntries: ReadonlyMap<string, DbtYamlEntry>;
  /** `source_name.table_name` → its relation. */
  readonly sources: ReadonlyMap<string, DbtSourceTable>;
  /** The `sources:` entries of the YAML files, in file order. */
  readonly sourceEntries: readonly DbtSourceEntry[];
  /** `{% docs name %}` blocks of the model folders' `.md` files. */
  readonly docs: ReadonlyMap<string, string>;
  /** Whether a folder (path under the model folders) exists, for folder configs. */
  readonly modelFolderExists: (folders: readonly string[]) => boolean;
}

/**
 * Reads the dbt project in `dir`; `projectDir` is the Strata project's folder (messages name
 * files relative to it). Returns `undefined` when `dbt_project.yml` cannot be read. YAML files already parsed with
 * the same text are taken from `cache`.
 */
export function readDbtProject(dir: string, projectDir: string, errors: DefinitionError[], cache?: DbtLoadCache): DbtProjectFiles | undefined {
  const readYaml = (path: string, display: string, into: DefinitionError[]) => readYamlFile(path, display, into, cache);
  const display = (path: string) => relative(projectDir, path).split(sep).join('/') || path;
  const projectPath = join(dir, DBT_PROJECT_FILE);
  const projectFile = display(projectPath);
  const project = readYaml(projectPath, projectFile, errors);
  if (project === undefined) return undefined;
  if (!isObject(project) || typeof project.name !== 'string') {
    errors.push(new DefinitionError('dbt_project_invalid', `${DBT_PROJECT_FILE} needs a name`, { file: projectFile }));
    return undefined;
  }
  const folders = (field: string, fallback: string): string[] => {
    const value = project[field];
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : [fallback];
  };
  const modelRoots = folders('model-paths', 'models').map((f) => join(dir, f));
  const list = (roots: readonly string[], extension: string) =>
    roots.flatMap((root) => walk(root, extension).map((path) => ({ path, display: display(path), relative: relative(root, path).split(sep).join('/') })));
  const models = list(modelRoots, '.sql');
  for (const python of list(modelRoots, '.py'))
    errors.push(new DefinitionError('dbt_unsupported', 'Python models are not supported yet', { file: python.display }));
  const modelEntries = new Map<string, DbtYamlEntry>();
  const seedEntries = new Map<string, DbtYamlEntry>();
  const sources = new Map<string, DbtSourceTable>();
  const sourceEntries: DbtSourceEntry[] = [];
  for (const yml of [
    ...list(modelRoots, '.yml'),
    ...list(modelRoots, '.yaml'),
    ...list(
      folders('seed-paths', 'seeds').map((f) => join(dir, f)),
      '.yml',
    ),
    ...list(
      folders('snapshot-paths', 'snapshots').map((f) => join(dir, f)),
      '.yml',
    ),
  ]) {
    const content = readYaml(yml.path, yml.display, errors);
    if (!isObject(content)) continue;
    if (Array.isArray(content.snapshots) && content.snapshots.length > 0)
      errors.push(
        new DefinitionError(
          'dbt_unsupported',
          'snapshots: entries (descriptions, configs, tests of snapshots) are not supported yet: configure snapshots in config()',
          {
            file: yml.display,
          },
        ),
      );
    for (const [field, into] of [
      ['models', modelEntries],
      ['seeds', seedEntries],
    ] as const) {
      for (const entry of Array.isArray(content[field]) ? content[field] : []) {
        if (!isObject(entry) || typeof entry.name !== 'string') continue;
        if (into.has(entry.name))
          errors.push(
            new DefinitionError('dbt_yaml_invalid', `${field.slice(0, -1)} "${entry.name}" is described twice (also in ${into.get(entry.name)?.file})`, {
              file: yml.display,
            }),
          );
        else into.set(entry.name, { entry, file: yml.display, folders: yml.relative.split('/').slice(0, -1) });
      }
    }
    for (const source of Array.isArray(content.sources) ? content.sources : []) {
      if (!isObject(source) || typeof source.name !== 'string') continue;
      sourceEntries.push({ entry: source, file: yml.display, path: yml.path, folders: yml.relative.split('/').slice(0, -1) });
      const schema = typeof source.schema === 'string' ? source.schema : source.name;
      for (const table of Array.isArray(source.tables) ? source.tables : []) {
        if (!isObject(table) || typeof table.name !== 'string') continue;
        const eventTime = [table.config, source.config].map((c) => (isObject(c) ? c.event_time : undefined)).find((e) => typeof e === 'string');
        sources.set(`${source.name}.${table.name}`, {
          schema,
          identifier: typeof table.identifier === 'string' ? table.identifier : table.name,
          ...(typeof eventTime === 'string' ? { eventTime } : {}),
        });
      }
    }
  }
  const packageMacros = new Map<string, DbtFile[]>();
  const installed = join(dir, typeof project['packages-install-path'] === 'string' ? project['packages-install-path'] : 'dbt_packages');
  if (isFolder(installed))
    for (const entry of readdirSync(installed, { withFileTypes: true }).sort((a, b) => compareKeys(a.name, b.name)))
      if (entry.isDirectory() && !entry.name.startsWith('.') && isFolder(join(installed, entry.name, 'macros')))
        packageMacros.set(entry.name, list([join(installed, entry.name, 'macros')], '.sql'));
  const docs = new Map<string, string>();
  for (const md of list(modelRoots, '.md')) {
    for (const match of readFileSync(md.path, 'utf8').matchAll(/\{%-?\s*docs\s+(\w+)\s*-?%\}([\s\S]*?)\{%-?\s*enddocs\s*-?%\}/g))
      docs.set(match[1] as string, (match[2] as string).trim());
  }
  return {
    name: project.name,
    dir,
    projectFile,
    project,
    models,
    macros: list(
      folders('macro-paths', 'macros').map((f) => join(dir, f)),
      '.sql',
    ),
    packageMacros,
    seeds: list(
      folders('seed-paths', 'seeds').map((f) => join(dir, f)),
      '.csv',
    ),
    tests: list(
      folders('test-paths', 'tests').map((f) => join(dir, f)),
      '.sql',
    ),
    snapshots: list(
      folders('snapshot-paths', 'snapshots').map((f) => join(dir, f)),
      '.sql',
    ),
    modelEntries,
    seedEntries,
    sources,
    sourceEntries,
    docs,
    modelFolderExists: (path) => modelRoots.some((root) => isFolder(join(root, ...path))),
  };
}

/** The parsed YAML of a file, or `undefined` (reported) when it cannot be read or parsed. */
function readYamlFile(path: string, display: string, errors: DefinitionError[], cache: DbtLoadCache | undefined): unknown {
  try {
    const text = readFileSync(path, 'utf8');
    return cache === undefined ? parseYaml(text) : cache.yaml(text, parseYaml);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'the file does not exist' : `not valid YAML: ${(error as Error).message.split('\n')[0]}`;
    errors.push(new DefinitionError('dbt_yaml_invalid', message, { file: display }, { cause: error }));
    return undefined;
  }
}

/** The files under `root` ending in `extension`, sorted (names starting with `.` skipped). */
function walk(root: string, extension: string): string[] {
  if (!isFolder(root)) return [];
  const files: string[] = [];
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.toLowerCase().endsWith(extension)) files.push(path);
    }
  };
  visit(root);
  return files.sort(compareKeys);
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
