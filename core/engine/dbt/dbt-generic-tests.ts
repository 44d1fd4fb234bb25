/**
 * The project's own generic tests: `{% test %}` blocks (and `test_<name>` macros) of the macro
 * folders and of `tests/generic/`. Each use of one in a `schema.yml` becomes a custom SQL check
 * on the model, seed or source table it is declared on: its body is rendered as a singular test is
 * (see dbt-singular-tests.ts), with `model` the checked asset's `{{ this }}` (a subquery of the rows
 * `where` selects, with one), `column_name` and the test's keyword arguments set in front of it.
 * The rows the query returns are the failures. A test named like a builtin (`unique`) replaces
 * it, as in dbt.
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { customSql, type CheckSpec } from '../../model/definitions/check-spec.ts';
import { genericTestBlocks, type GenericTestBlock } from '../../model/dbt/dbt-generic-test-blocks.ts';
import { gradedChecks, readTestConfig } from '../../model/dbt/dbt-test-config.ts';
import { parseRelationCall, type DbtCustomTestUse } from '../../model/dbt/dbt-tests.ts';
import type { DbtProjectFiles } from './dbt-project-files.ts';
import type { TemplatePart } from './dbt-jinja.ts';
import { renderModel } from './dbt-model-render.ts';
import { isGenericTestFile, testQuery, type SingularTestContext } from './dbt-singular-tests.ts';

/** A generic test the project or an installed package defines, with the file it is in. */
export interface GenericTestDefinition extends GenericTestBlock {
  readonly file: string;
  /** The package defining it (`dbt_utils`); absent for the project's own. */
  readonly package?: string;
}

/** The generic tests by name (a package's as `<package>.<name>`), and the macro files without their `{% test %}` blocks. */
export interface ProjectGenericTests {
  readonly definitions: ReadonlyMap<string, GenericTestDefinition>;
  /** The project's macro files as the Jinja environment compiles them. */
  readonly macros: readonly TemplatePart[];
  /** Each installed package's macro files, added to the project's when one of its tests renders. */
  readonly packageMacros: ReadonlyMap<string, readonly TemplatePart[]>;
}

/** Reads the generic tests of the macro files and of `tests/generic/` (problems pushed on `errors`, naming file and line). */
export function readGenericTests(files: DbtProjectFiles, errors: DefinitionError[]): ProjectGenericTests {
  const definitions = new Map<string, GenericTestDefinition>();
  const macros: TemplatePart[] = [];
  const packageMacros = new Map<string, TemplatePart[]>();
  const read = (file: { path: string; display: string }, into: TemplatePart[] | undefined, pkg?: string) => {
    const text = readFileSync(file.path, 'utf8');
    const found = genericTestBlocks(text);
    for (const problem of found.problems) errors.push(new DefinitionError('dbt_test_invalid', problem.message, { file: `${file.display}:${problem.line}` }));
    into?.push({ file: file.display, text: found.withoutTests });
    for (const block of found.blocks) {
      if (pkg !== undefined) {
        // A package's test is named by its namespace only; a package's own duplicates are its business.
        if (!definitions.has(`${pkg}.${block.name}`)) definitions.set(`${pkg}.${block.name}`, { ...block, file: file.display, package: pkg });
        continue;
      }
      const previous = definitions.get(block.name);
      if (previous !== undefined)
        errors.push(
          new DefinitionError('dbt_test_invalid', `generic test "${block.name}" is defined twice (also in ${previous.file})`, {
            file: `${file.display}:${block.bodyLine}`,
          }),
        );
      else {
        // `shop.is_even` names the project's own test as well.
        definitions.set(block.name, { ...block, file: file.display });
        definitions.set(`${files.name}.${block.name}`, { ...block, file: file.display });
      }
    }
  };
  for (const file of files.macros) read(file, macros);
  for (const file of files.tests) if (isGenericTestFile(file.relative)) read(file, undefined);
  for (const [pkg, list] of files.packageMacros) {
    const parts: TemplatePart[] = [];
    for (const file of list) read(file, parts, pkg);
    packageMacros.set(pkg, parts);
  }
  return { definitions, macros, packageMacros };
}

/** The asset a set of test uses is on. */
export interface TestedAsset {
  readonly key: string;
  /** The YAML the uses are in. */
  readonly file: string;
  /** The names of the asset's other checks: a check named like one is numbered (`is_even(a) #2`), unless its name was given (an error). */
  readonly taken: Set<string>;
  /** Set when the tests may not `ref()` a model or seed: why (a source's tests). */
  readonly refsForbidden?: string;
}

/**
 * The checks of `uses` on the asset `on`. Problems are pushed on `errors`, naming the asset and
 * the YAML file or the definition's line.
 */
export function genericTestChecks(
  context: SingularTestContext,
  tests: ProjectGenericTests,
  uses: readonly DbtCustomTestUse[],
  on: TestedAsset,
  errors: DefinitionError[],
): CheckSpec[] {
  const { key: tested, file, taken } = on;
  const checks: CheckSpec[] = [];
  for (const use of uses) {
    const definition = tests.definitions.get(use.entry.test) as GenericTestDefinition;
    // A package's test sees the package's macros too.
    const macros = definition.package === undefined ? context.macros : [...context.macros, ...(tests.packageMacros.get(definition.package) ?? [])];
    const fail = (message: string, where = file) =>
      errors.push(new DefinitionError('dbt_test_invalid', `test ${use.checkName}: ${message}`, { assetKey: tested, file: where }));
    const render = (where: string | undefined) => {
      const made = useTemplate(definition, use, where);
      if ('problem' in made) return { problem: made.problem, where: file };
      const rendered = renderModel({ file: definition.file, text: made.template }, macros, { ...context.settings, incremental: false }, context.cache);
      return 'message' in rendered ? { problem: rendered.message, where: rendered.where } : { template: made.template, rendered };
    };
    let made = render(use.entry.config.where);
    if (made.problem !== undefined) {
      fail(made.problem, made.where);
      continue;
    }
    // The definition's config() is every use's default: over dbt_project.yml's, under the use's own.
    const defaults: Record<string, unknown> = Object.assign({}, ...made.rendered.configs);
    const problem =
      defaults.name !== undefined || defaults.alias !== undefined
        ? 'config(name=…) in a test definition is not supported: name each use in the YAML'
        : undefined;
    const checked = problem ?? readTestConfig(use.entry.test, defaults);
    if (typeof checked === 'string') {
      fail(checked, definition.file);
      continue;
    }
    const config = readTestConfig(use.entry.test, { ...use.projectConfig, ...defaults, ...use.entry.own });
    if (typeof config === 'string') {
      fail(config);
      continue;
    }
    if (!config.enabled) continue;
    // A where of the definition's (or the project's, under it) is the model the test reads.
    if (config.where !== use.entry.config.where) made = render(config.where);
    if (made.problem !== undefined) {
      fail(made.problem, made.where);
      continue;
    }
    const { template, rendered } = made;
    if (on.refsForbidden !== undefined && rendered.refs.length > 0) {
      fail(`it reads ref('${rendered.refs[0]}'): ${on.refsForbidden}`);
      continue;
    }
    const query = testQuery(context, { name: use.checkName, file: definition.file, template }, rendered, tested, (m) => fail(m, definition.file));
    if (query === undefined) continue;
    let name = use.checkName;
    if (taken.has(name)) {
      if (use.entry.config.name !== undefined) {
        fail(`another check of ${tested} has the name "${name}"`);
        continue;
      }
      let n = 2;
      while (taken.has(`${use.checkName} #${n}`)) n++;
      name = `${use.checkName} #${n}`;
    }
    const graded = gradedChecks(customSql(name, query, { severity: config.severity ?? 'error' }), config);
    for (const check of graded) taken.add(check.name);
    checks.push(...graded);
  }
  return checks;
}

/**
 * The template of one use: the definition's body, on its own lines of its file (so a problem
 * names the definition's line), after `{% set %}`s of `model`, `column_name` and the arguments
 * (given, else their defaults).
 */
function useTemplate(definition: GenericTestDefinition, use: DbtCustomTestUse, where: string | undefined): { template: string } | { problem: string } {
  const { args } = use.entry;
  const sets: string[] = [];
  const model = where === undefined ? 'this' : `"(select * from " ~ this ~ " where " ~ ${JSON.stringify(where)} ~ ") dbt_subquery"`;
  const given = new Map<string, string>([['model', model]]);
  if (use.column !== undefined) given.set('column_name', JSON.stringify(use.column));
  const names = new Set(definition.params.map((p) => p.name));
  for (const [key, value] of Object.entries(args)) {
    if (key === 'column_name' || key === 'model') continue;
    if (!names.has(key)) return { problem: `generic test ${definition.name} has no argument "${key}" (its arguments: ${[...names].join(', ')})` };
    given.set(key, argument(value));
  }
  for (const param of definition.params) {
    const value = given.get(param.name) ?? param.default;
    if (value === undefined)
      return {
        problem:
          param.name === 'column_name'
            ? `generic test ${definition.name} needs a column: declare it under a column, or give column_name`
            : `generic test ${definition.name} needs argument "${param.name}"`,
      };
    sets.push(`{% set ${param.name} = ${value} %}`);
  }
  // `model` is the relation even where the definition does not name it as a parameter (a legacy macro may use **kwargs).
  if (!names.has('model')) sets.unshift(`{% set model = ${model} %}`);
  return { template: '\n'.repeat(definition.bodyLine - 1) + sets.join('') + definition.body };
}

/** A YAML argument as a Jinja expression: `ref('x')`/`source('a', 'b')` as the relation, anything else as its JSON. */
function argument(value: unknown): string {
  if (typeof value === 'string') {
    const call = parseRelationCall(value);
    if (call !== undefined) return `${call.fn}(${call.args.map((a) => JSON.stringify(a)).join(', ')})`;
  }
  return JSON.stringify(value ?? null);
}
