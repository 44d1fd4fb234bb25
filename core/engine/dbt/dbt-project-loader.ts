/**
 * Turns a dbt project into Strata definitions: every enabled model becomes a parsed SQL asset
 * file (the same thing a `.sql` asset file parses into, built and run by the same code), every
 * seed a Strata seed, every generic test of a `schema.yml` a check on its model, every snapshot
 * block a Strata snapshot with dbt's columns (see dbt-snapshots.ts).
 *
 * Each model's Jinja is rendered once with `is_incremental()` false (its query, and its
 * `config()` calls), and an incremental model once more with it true (the query of an incremental
 * build). `ref()` prints a placeholder first: a model's key depends on its `schema` config, known
 * only once every model is rendered; then the placeholders become tables, and refs to ephemeral
 * models CTEs. Dependencies are then inferred from the final SQL by DuckDB's parser, as for any
 * SQL asset.
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { folderConfigs, mergeModelConfig, strayFolderKeys, isObject, type RawConfig } from '../../model/dbt/dbt-config.ts';
import { dbtAdapterConfig } from '../../model/dbt/dbt-adapter-config.ts';
import { dbtIncrementalConfig, dbtKeyProblem, dbtModelKey, dbtSqlHeader } from '../../model/dbt/dbt-model-mapping.ts';
import { dbtModelChecks, parseRelationCall, type RelationResolver } from '../../model/dbt/dbt-tests.ts';
import type { IncrementalConfig } from '../../model/definitions/incremental-config.ts';
import { extractQuery } from '../../model/definitions/sql-query-body.ts';
import type { ParsedSqlAssetFile } from '../../model/definitions/sql-asset-file.ts';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { tableToKey } from '../../model/definitions/asset-key.ts';
import { compareKeys } from '../../model/collections/key-compare.ts';
import { readDbtProject, type DbtProjectFiles, type DbtYamlEntry } from './dbt-project-files.ts';
import { genericTestChecks, readGenericTests } from './dbt-generic-tests.ts';
import { renderModel } from './dbt-model-render.ts';
import type { DbtLoadCache } from './dbt-load-cache.ts';
import { refDependencies, resolveBody, type BatchReads, type ModelNode } from './dbt-ref-resolution.ts';
import { singularTestChecks } from './dbt-singular-tests.ts';
import { microbatchIncremental, microbatchOf, withBatches } from './dbt-microbatch-models.ts';
import { renderDbtSnapshots, snapshotAsset } from './dbt-snapshots.ts';
import { dbtSourceAssets } from './dbt-sources.ts';
import { columnDescriptions, describe } from './dbt-descriptions.ts';
import { loadDbtSeeds, seedWithYaml } from './dbt-seeds.ts';
import type { DbtTarget } from './dbt-target.ts';
import type { CheckSpec } from '../../model/definitions/check-spec.ts';

/** A dbt model as a parsed SQL asset file, with the file it came from. */
export interface DbtSqlAsset {
  readonly parsed: ParsedSqlAssetFile;
  readonly file: string;
  /** Descriptions of its columns from schema.yml, by column name. */
  readonly columnDescriptions: Readonly<Record<string, string>>;
  /** What it reads through `ref()` and `source()`: its dependencies when DuckDB's parser cannot read its (Postgres) SQL. */
  readonly refDeps: readonly string[];
}

/** One dbt node and the asset it became (`assets dbt ls`). */
export interface DbtNode {
  /** dbt's id of the node: `model.<project>.<name>`, `seed.<project>.<name>`, `snapshot.<project>.<name>`, `source.<project>.<source>.<table>`. */
  readonly id: string;
  /** Its asset key; `null` for an ephemeral model (inlined into its readers). */
  readonly key: string | null;
  /** `view`, `table`, `incremental`, `ephemeral`, `seed`, `snapshot` or `source`. */
  readonly materialized: string;
  readonly file: string;
}

/** What a dbt project adds to a Strata project. */
export interface DbtDefinitions {
  /** Every enabled model, seed and snapshot, by dbt id. */
  readonly nodes: readonly DbtNode[];
  /** Models and snapshots, as parsed SQL asset files. */
  readonly models: readonly DbtSqlAsset[];
  readonly seeds: readonly AssetDefinition[];
  /** Keys of models that failed to load: their readers are not reported again for reading them. */
  readonly brokenKeys: readonly string[];
  /**
   * A source asset for each table of `sources:`: the project keeps those whose table no asset
   * of the project builds.
   */
  readonly sources: readonly AssetDefinition[];
}

export { dbtTarget, type DbtTarget } from './dbt-target.ts';

/**
 * Loads the dbt project in `dir` (`projectDir`: the Strata project, whose folder messages name
 * files from), taking renderings and parsed YAML from `cache` when it has them. `cliVars`
 * (`--vars`) override the vars of `dbt_project.yml`. Problems are pushed on `errors`.
 */
export function loadDbtProject(
  dir: string,
  projectDir: string,
  target: DbtTarget,
  errors: DefinitionError[],
  cache: DbtLoadCache = NO_CACHE,
  cliVars: Readonly<Record<string, unknown>> = {},
): DbtDefinitions {
  const files = readDbtProject(dir, projectDir, errors, cache);
  if (files === undefined) return { nodes: [], models: [], seeds: [], brokenKeys: [], sources: [] };
  for (const stray of strayFolderKeys(files.project.models, files.name, files.modelFolderExists)) {
    errors.push(
      new DefinitionError('dbt_config_invalid', `models.${stray} is neither a config nor a model folder of project ${files.name}`, { file: files.projectFile }),
    );
  }
  const seeds = loadDbtSeeds(files, errors);
  const generic = readGenericTests(files, errors);
  const macros = generic.macros;
  const adapter = dbtAdapterConfig(files.project);
  for (const problem of adapter.problems) errors.push(new DefinitionError('dbt_config_invalid', problem, { file: files.projectFile }));
  const settings = { vars: { ...projectVars(files), ...cliVars }, target, sources: files.sources, project: files.name, adapter: adapter.config };
  cache.setRenderSettings(
    {
      macros: macros.map((m) => m.text),
      packageMacros: [...generic.packageMacros.values()].flat().map((m) => m.text),
      target,
      sources: [...files.sources],
      project: files.name,
      adapter: adapter.config,
    },
    settings.vars,
  );

  const nodes = new Map<string, ModelNode>();
  const brokenKeys = new Set<string>();
  for (const model of files.models) {
    const name = model.relative.slice(0, -'.sql'.length).split('/').pop() as string;
    const path = model.relative.slice(0, -'.sql'.length);
    const folderLevels = folderConfigs(files.project.models, files.name, path.split('/').slice(0, -1));
    // Until its own config() is known, a model's key is the one its folders give it.
    const fail = (message: string, where = model.display) => {
      const key = dbtModelKey(path, mergeModelConfig(folderLevels).config.schema, target.schema);
      errors.push(new DefinitionError('dbt_model_invalid', message, { assetKey: key, file: where }));
      brokenKeys.add(key);
    };
    const template = readFileSync(model.path, 'utf8');
    const rendered = renderModel({ file: model.display, text: template }, macros, { ...settings, incremental: false }, cache);
    if ('message' in rendered) {
      fail(rendered.message, rendered.where);
      continue;
    }
    const yaml = files.modelEntries.get(name);
    const levels: RawConfig[] = [...folderLevels];
    if (yaml !== undefined) levels.push(...yamlConfigs(yaml.entry));
    levels.push(...rendered.configs);
    const { config, problems } = mergeModelConfig(levels);
    for (const problem of problems) fail(problem);
    if (problems.length > 0 || !config.enabled) continue;
    const previous = nodes.get(name);
    if (previous !== undefined) {
      fail(`two models are named "${name}" (also ${previous.file}): dbt refs models by name`);
      continue;
    }
    const key = dbtModelKey(path, config.schema, target.schema);
    const keyIssue = config.materialized === 'ephemeral' ? undefined : dbtKeyProblem(key);
    if (keyIssue !== undefined) {
      fail(keyIssue);
      continue;
    }
    nodes.set(name, { name, file: model.display, path, template, rendered, config, key });
  }
  for (const name of files.modelEntries.keys()) {
    const entry = files.modelEntries.get(name);
    if (!nodes.has(name) && entry !== undefined && !files.models.some((m) => m.relative.split('/').pop() === `${name}.sql`))
      errors.push(new DefinitionError('dbt_yaml_invalid', `describes model "${name}", which has no .sql file`, { file: entry.file }));
  }

  const snapshots = renderDbtSnapshots(files, macros, settings, cache, errors, brokenKeys).filter((snapshot) => {
    const { name, file } = snapshot.node;
    const clash = nodes.has(name) ? `model ${nodes.get(name)?.file}` : seeds.some((s) => s.name === name) ? `a seed` : undefined;
    if (clash !== undefined) {
      errors.push(
        new DefinitionError('dbt_snapshot_invalid', `snapshot "${name}" has the name of ${clash}: dbt refs both by name`, {
          assetKey: snapshot.node.key,
          file,
        }),
      );
      brokenKeys.add(snapshot.node.key);
    }
    return clash === undefined;
  });
  const seedKeys = new Map([...seeds.map((s) => [s.name, s.definition.spec.key] as const), ...snapshots.map((s) => [s.node.name, s.node.key] as const)]);
  const keyOfRef = (model: string): string | undefined => (nodes.has(model) ? nodes.get(model)?.key : seedKeys.get(model));
  const resolver: RelationResolver = (call) => {
    const parsed = parseRelationCall(call);
    if (parsed === undefined) return { problem: `to: "${call}" is not ref('model') or source('source', 'table')` };
    if (parsed.fn === 'source') {
      const table = files.sources.get(parsed.args.join('.'));
      return table === undefined ? { problem: `${call} names no source table` } : { key: tableToKey(table.schema, table.identifier) };
    }
    const key = keyOfRef(parsed.args[parsed.args.length - 1] as string);
    return key === undefined ? { problem: `${call} names no model or seed` } : { key };
  };

  const eventTimes = new Map<string, string>([
    ...seeds.flatMap((seed) => (seed.eventTime === undefined ? [] : [[seed.name, seed.eventTime] as const])),
    ...snapshots.flatMap(({ node, config }) => (config.eventTime === undefined ? [] : [[node.name, config.eventTime] as const])),
    ...[...nodes.values()].flatMap((node) =>
      typeof node.config.microbatch?.event_time === 'string' ? [[node.name, node.config.microbatch.event_time] as const] : [],
    ),
  ]);
  const finals = new Map<string, string>();
  const testContext = { files, macros, settings, cache, nodes, keyOfRef, finals };
  const singular = singularTestChecks(testContext, errors);
  /** The options of the tests of a YAML entry: the test configs (`+severity` under `tests:`/`data_tests:`) of its file's folder apply to them, as in dbt. */
  const testOptions = (yaml: DbtYamlEntry) => ({
    isCustom: (name: string) => generic.definitions.has(name),
    packages: generic.packageMacros,
    projectConfig: Object.assign({}, ...[files.project.tests, files.project.data_tests].flatMap((tree) => folderConfigs(tree, files.name, yaml.folders))),
  });
  /**
   * The checks of a node's schema.yml entry (its own tests and its columns'), then `more` (its
   * singular tests). A source's tests run when it is observed, before anything is built: they may
   * read other sources only.
   */
  const entryChecks = (yaml: DbtYamlEntry, key: string, more: readonly CheckSpec[], onSource = false): CheckSpec[] => {
    const resolve: RelationResolver = (call) =>
      onSource && parseRelationCall(call)?.fn === 'ref' ? { problem: `${call}: ${SOURCE_TEST_READS}` } : resolver(call);
    const tests = dbtModelChecks(yaml.entry, resolve, testOptions(yaml));
    for (const problem of tests.problems) errors.push(new DefinitionError('dbt_test_invalid', problem, { assetKey: key, file: yaml.file }));
    const checks = [...tests.checks, ...more];
    const taken = new Set(checks.map((c) => c.name));
    const reading = onSource ? SOURCE_TEST_READS : undefined;
    return [
      ...checks,
      ...genericTestChecks(testContext, generic, tests.custom, { key, file: yaml.file, taken, ...(reading ? { refsForbidden: reading } : {}) }, errors),
    ];
  };
  const models: DbtSqlAsset[] = [];
  for (const node of nodes.values()) {
    const fail = (message: string, where = node.file) => {
      errors.push(new DefinitionError('dbt_model_invalid', message, { assetKey: node.key, file: where }));
      brokenKeys.add(node.key);
    };
    const yaml = files.modelEntries.get(node.name);
    const { microbatch, valid } = microbatchOf(node, yaml?.file, fail);
    if (!valid) continue;
    // A microbatch model reads the batch's rows of the nodes with an event_time it refs.
    const batch: BatchReads | undefined =
      microbatch === undefined ? undefined : { eventTimeOf: (name) => eventTimes.get(name), aliased: target.type === 'postgres' };
    if (node.config.materialized === 'ephemeral') {
      const tests = yaml === undefined ? undefined : dbtModelChecks(yaml.entry, resolver, testOptions(yaml));
      if (tests !== undefined && (tests.checks.length > 0 || tests.custom.some((use) => use.entry.config.enabled)))
        fail('an ephemeral model is not built, so it cannot be tested');
      continue;
    }
    const body = resolveBody(node, node.rendered.text, nodes, keyOfRef, finals, [], fail, batch);
    let incrementalBody: string | undefined;
    let incremental: IncrementalConfig | undefined;
    const renderings = [node.rendered];
    if (node.config.materialized === 'incremental') {
      const mapped = microbatch === undefined ? dbtIncrementalConfig(node.config) : { config: microbatchIncremental(microbatch) };
      if (mapped.problem !== undefined) fail(mapped.problem);
      incremental = mapped.config;
      const again = renderModel({ file: node.file, text: node.template }, macros, { ...settings, incremental: true }, cache);
      if ('message' in again) fail(again.message, again.where);
      else {
        renderings.push(again);
        const resolved = resolveBody(node, again.text, nodes, keyOfRef, finals, [], fail, batch);
        if (resolved !== undefined && resolved !== body) incrementalBody = resolved;
      }
    }
    if (body === undefined) continue;
    const checks = yaml === undefined ? [...(singular.get(node.key) ?? [])] : entryChecks(yaml, node.key, singular.get(node.key) ?? []);
    const query = extractQuery(body, (_code, message) => fail(message));
    const incrementalQuery = incrementalBody === undefined ? undefined : extractQuery(incrementalBody, (_code, message) => fail(message));
    if (query === undefined) continue;
    const description = describe(yaml?.entry.description, files, fail);
    const modelHeader = dbtSqlHeader({
      config: node.config,
      checks,
      ...(description === undefined ? {} : { description }),
      ...(incremental === undefined ? {} : { incremental }),
    });
    const header = microbatch === undefined ? modelHeader : withBatches(modelHeader, microbatch);
    models.push({
      file: node.file,
      columnDescriptions: yaml === undefined ? {} : columnDescriptions(yaml.entry, files, fail),
      refDeps: refDependencies(renderings, nodes, keyOfRef, files.sources),
      parsed: { ok: true, key: node.key, header, body: query, ...(incrementalQuery === undefined ? {} : { incrementalBody: incrementalQuery }) },
    });
  }
  for (const snapshot of snapshots) {
    const fail = (message: string) => {
      errors.push(new DefinitionError('dbt_snapshot_invalid', message, { assetKey: snapshot.node.key, file: snapshot.node.file }));
      brokenKeys.add(snapshot.node.key);
    };
    const asset = snapshotAsset(snapshot, nodes, keyOfRef, finals, fail);
    if (asset !== undefined) models.push({ ...asset, refDeps: refDependencies([snapshot.node.rendered], nodes, keyOfRef, files.sources) });
  }
  const sources = dbtSourceAssets(files, target, errors, (yaml, key) => entryChecks(yaml, key, [], true));
  const nodeRows: DbtNode[] = [
    ...snapshots.map(({ node }) => ({ id: `snapshot.${files.name}.${node.name}`, key: node.key, materialized: 'snapshot', file: node.file })),
    ...[...nodes.values()].map((node) => ({
      id: `model.${files.name}.${node.name}`,
      key: node.config.materialized === 'ephemeral' ? null : node.key,
      materialized: node.config.incrementalStrategy === 'microbatch' ? 'incremental (microbatch)' : node.config.materialized,
      file: node.file,
    })),
    ...seeds.map((seed) => ({ id: `seed.${files.name}.${seed.name}`, key: seed.definition.spec.key, materialized: 'seed', file: seed.definition.file ?? '' })),
    // The table's key: the source asset, or the asset of the project that builds the table.
    ...sources.map((source) => ({ id: source.id, key: source.definition.spec.key, materialized: 'source', file: source.definition.file ?? '' })),
  ].sort((a, b) => compareKeys(a.id, b.id));
  return {
    nodes: nodeRows,
    models,
    seeds: seeds.map((s) => {
      const yaml = files.seedEntries.get(s.name);
      const more = singular.get(s.definition.spec.key) ?? [];
      return seedWithYaml(s.definition, yaml, files, errors, yaml === undefined ? more : entryChecks(yaml, s.definition.spec.key, more));
    }),
    brokenKeys: [...brokenKeys],
    sources: sources.map((s) => s.definition),
  };
}

/** Why a source test may not ref() a model or seed. */
const SOURCE_TEST_READS = 'a source test runs when the source is observed, before the models and seeds are built, so it may read only sources';

/** No cache: everything is rendered and parsed. */
const NO_CACHE: DbtLoadCache = {
  setRenderSettings: () => {},
  render: () => undefined,
  storeRender: () => {},
  yaml: (text, parse) => parse(text),
  save: () => {},
};

/** The configs of a `schema.yml` model entry: its `config:`, and `meta:` and `tags:` written beside it. */
function yamlConfigs(entry: Readonly<Record<string, unknown>>): RawConfig[] {
  return [
    ...(entry.meta === undefined ? [] : [{ meta: entry.meta }]),
    ...(entry.tags === undefined ? [] : [{ tags: entry.tags }]),
    ...(isObject(entry.config) ? [entry.config] : []),
  ];
}

/** `vars:` of `dbt_project.yml`: global ones, and the project's own (`vars: { <project>: { … } }`); `--vars` override both. */
function projectVars(files: DbtProjectFiles): Readonly<Record<string, unknown>> {
  const vars = isObject(files.project.vars) ? files.project.vars : {};
  const own = vars[files.name];
  return { ...vars, ...(isObject(own) ? own : {}) };
}
