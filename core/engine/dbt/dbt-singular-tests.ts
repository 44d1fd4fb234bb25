/**
 * dbt's singular tests: each `.sql` file of the test folders (`tests/` by default) is a query
 * returning the failing rows, rendered with the models' Jinja context. It becomes a custom SQL
 * check on the most downstream model or seed it refs (the one the others are built before), in
 * which that node's `ref()` is its own table (`{{ this }}`: the data being published, before it
 * is) and other refs their published tables.
 * Its `config(severity=...)` (or `+severity` under `tests:` in `dbt_project.yml`) decides whether
 * it blocks the publish (`error`, dbt's default) or only records a warning (`warn`).
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { customSql, withReads, type CheckSpec } from '../../model/definitions/check-spec.ts';
import { folderConfigs, type DbtModelConfig, type RawConfig } from '../../model/dbt/dbt-config.ts';
import { dbtRelation } from '../../model/dbt/dbt-model-mapping.ts';
import type { DbtProjectFiles } from './dbt-project-files.ts';
import { renderModel, type RenderedModel, type RenderSettings } from './dbt-model-render.ts';
import type { DbtLoadCache } from './dbt-load-cache.ts';
import type { TemplatePart } from './dbt-jinja.ts';
import { refDependencies, resolveBody, type ModelNode } from './dbt-ref-resolution.ts';

/** What turning the singular tests into checks needs of the loaded project. */
export interface SingularTestContext {
  readonly files: DbtProjectFiles;
  readonly macros: readonly TemplatePart[];
  readonly settings: Omit<RenderSettings, 'incremental'>;
  readonly cache: DbtLoadCache;
  /** The enabled models, by name. */
  readonly nodes: ReadonlyMap<string, ModelNode>;
  /** The asset key of a model or seed by its name (`undefined` for an ephemeral model or nothing). */
  readonly keyOfRef: (name: string) => string | undefined;
  readonly finals: Map<string, string>;
}

/** Test configs Strata reads; the others are documentation or selection only. */
const IGNORED_CONFIGS = new Set(['tags', 'meta', 'description', 'docs']);

const GENERIC_TEST_BLOCK = /\{%-?\s*test\s+\w+\s*\(/;

/** Whether a file of the test folders holds generic tests (`tests/generic/…`), not a singular test. */
export function isGenericTestFile(relative: string): boolean {
  return relative.startsWith('generic/');
}

/**
 * The checks of the project's singular tests, by the asset key they check. Problems (a test that
 * does not render, refs nothing Strata builds, or has a config Strata does not run) are pushed on
 * `errors`, naming the test's file and line.
 */
export function singularTestChecks(context: SingularTestContext, errors: DefinitionError[]): Map<string, CheckSpec[]> {
  const { files, nodes, keyOfRef } = context;
  const checks = new Map<string, CheckSpec[]>();
  const modelNames = new Set(files.models.map((m) => m.relative.slice(0, -'.sql'.length).split('/').pop()));
  for (const test of files.tests) {
    const fail = (message: string, where = test.display) => errors.push(new DefinitionError('dbt_test_invalid', message, { file: where }));
    if (isGenericTestFile(test.relative)) continue;
    const template = readFileSync(test.path, 'utf8');
    if (GENERIC_TEST_BLOCK.test(template)) {
      fail('a {% test %} block defines a generic test: put it in the macro folders or in tests/generic/');
      continue;
    }
    const name = test.relative.slice(0, -'.sql'.length).split('/').pop() as string;
    const rendered = renderModel({ file: test.display, text: template }, context.macros, { ...context.settings, incremental: false }, context.cache);
    if ('message' in rendered) {
      fail(rendered.message, rendered.where);
      continue;
    }
    // Test folder configs sit under `tests:`, or `data_tests:` since dbt 1.8.
    const folders = test.relative.split('/').slice(0, -1);
    const levels: RawConfig[] = [
      ...folderConfigs(files.project.tests, files.name, folders),
      ...folderConfigs(files.project.data_tests, files.name, folders),
      ...rendered.configs,
    ];
    const config = testConfig(levels);
    if (typeof config === 'string') {
      fail(config);
      continue;
    }
    if (!config.enabled) continue;
    const refd = [...new Set(rendered.refs)].filter((ref) => nodes.get(ref)?.config.materialized !== 'ephemeral' && keyOfRef(ref) !== undefined);
    const tested = mostDownstream(refd, nodes);
    // A ref to a model that is disabled or failed to load (reported already) leaves the test out, as dbt does.
    if (rendered.refs.some((ref) => keyOfRef(ref) === undefined && !nodes.has(ref) && modelNames.has(ref))) continue;
    if (tested === undefined) {
      fail('a singular test must ref() a model or seed of the project: it becomes a check on what it refs');
      continue;
    }
    const key = keyOfRef(tested) as string;
    const query = testQuery(context, { name, file: test.display, template }, rendered, key, fail);
    if (query === undefined) continue;
    const list = checks.get(key) ?? [];
    // What it refs besides the tested model: the check's reads when its Postgres SQL does not parse with DuckDB.
    const reads = refDependencies([rendered], nodes, keyOfRef, files.sources).filter((read) => read !== key);
    list.push(withReads(customSql(name, query, { severity: config.severity }), reads));
    checks.set(key, list);
  }
  return checks;
}

/**
 * The query of a rendered test (singular, or a use of a generic test) with its refs resolved,
 * in which `this` (a generic test's `model`) and refs to `checked`, the asset it checks, are that
 * asset's `{{ this }}`: the data being published, before it is. `undefined` when a ref names
 * nothing (reported through `fail`).
 */
export function testQuery(
  context: Pick<SingularTestContext, 'nodes' | 'keyOfRef' | 'finals'>,
  test: { readonly name: string; readonly file: string; readonly template: string },
  rendered: RenderedModel,
  checked: string,
  fail: (message: string) => void,
): string | undefined {
  const node: ModelNode = {
    name: `test ${test.name}`,
    file: test.file,
    path: test.name,
    template: test.template,
    rendered,
    // As for an incremental model, `this` resolves to Strata's `{{ this }}`.
    config: { materialized: 'incremental', tags: [], enabled: true, uniqueKey: [] } satisfies DbtModelConfig,
    key: test.name,
  };
  const resolved = resolveBody(node, rendered.text, context.nodes, context.keyOfRef, context.finals, [], fail);
  if (resolved === undefined) return undefined;
  return resolved.trim().replace(/;\s*$/, '').split(dbtRelation(checked)).join('{{ this }}');
}

/**
 * The node a test of `refs` checks: one that none of the others is built from (a check on an
 * upstream node reading a downstream one would be a cycle); of several, the last by name, so the
 * others are built before it.
 */
function mostDownstream(refs: readonly string[], nodes: ReadonlyMap<string, ModelNode>): string | undefined {
  const upstream = new Set<string>();
  const visit = (name: string, seen: Set<string>) => {
    for (const parent of nodes.get(name)?.rendered.refs ?? []) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      upstream.add(parent);
      visit(parent, seen);
    }
  };
  for (const ref of refs) visit(ref, new Set());
  return refs
    .filter((ref) => !upstream.has(ref))
    .sort()
    .pop();
}

/** A singular test's severity and whether it is enabled, or why its config cannot be run. */
function testConfig(levels: readonly RawConfig[]): { severity: 'warn' | 'error'; enabled: boolean } | string {
  let severity: 'warn' | 'error' = 'error';
  let enabled = true;
  for (const level of levels) {
    for (const [name, value] of Object.entries(level)) {
      if (name === 'severity') {
        const lower = typeof value === 'string' ? value.toLowerCase() : '';
        if (lower !== 'warn' && lower !== 'error') return `severity must be warn or error, not "${String(value)}"`;
        severity = lower;
      } else if (name === 'enabled') {
        if (typeof value !== 'boolean') return 'enabled must be true or false';
        enabled = value;
      } else if (!IGNORED_CONFIGS.has(name)) return `test config "${name}" is not supported yet`;
    }
  }
  return { severity, enabled };
}
