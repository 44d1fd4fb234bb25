/**
 * The adapter side of dbt's Jinja context: `adapter.dispatch` resolved as dbt resolves it, dbt's
 * cross-database macros (`dbt.dateadd(...)`, and unqualified as dbt's global macros are),
 * `adapter.quote`, `adapter.quote_as_configured`, `api.Relation.create`, `api.Column`,
 * `exceptions.raise_compiler_error`, `log`, `execute`, and the project's macros by its name (`shop.money()`).
 *
 * What needs the database while a model is rendered (`run_query`, `statement` blocks,
 * `adapter.get_relation`, `adapter.get_columns_in_relation`…) is an error saying why: Strata renders
 * each model once, before anything is built, to know the graph.
 *
 * Dispatch (dbt's `adapter.dispatch(name, macro_namespace)`): for each package of the search order,
 * `<adapter>__<name>` then `default__<name>` (neither dbt-duckdb nor dbt-postgres declares a parent
 * adapter). The search order: without a namespace, the project's macros then dbt's; with the
 * project's name or `dbt`, the project then that namespace; with a `dispatch:` entry of
 * `dbt_project.yml` for the namespace, its `search_order`.
 */
import type { DbtAdapterConfig, DbtQuotingPart } from '../../model/dbt/dbt-adapter-config.ts';
import { CROSS_DB_MACROS, macroNeedle, sqlText, type CrossDbMacro, type DbtCall } from './dbt-cross-db-macros.ts';
import { contextFailure, safeText, splitKeywords, type ProjectMacros } from './dbt-jinja.ts';

/** What the adapter context reads of the target and the project. */
export interface AdapterSettings {
  /** `duckdb` or `postgres`. */
  readonly type: string;
  /** The dbt project's name (a dispatch namespace). */
  readonly project: string | undefined;
  readonly config: DbtAdapterConfig;
}

/** dbt's defaults: no `dispatch:` entries, every part of a name quoted. */
export const DEFAULT_ADAPTER_CONFIG: DbtAdapterConfig = Object.freeze({
  dispatch: Object.freeze({}),
  quoting: Object.freeze({ database: true, schema: true, identifier: true }),
});

type Callable = (...args: unknown[]) => unknown;

/** The namespace of dbt's own macros. */
const DBT = 'dbt';

/** Context functions that would read the database while the model is rendered. */
const NEEDS_DATABASE = ['run_query', 'statement', 'load_result'];
const ADAPTER_NEEDS_DATABASE = [
  'get_relation',
  'get_columns_in_relation',
  'get_missing_columns',
  'load_relation',
  'execute',
  'list_relations',
  'get_column_schema_from_query',
];

function needsDatabase(call: string, needle: string): never {
  throw contextFailure(
    `${call}() reads the database while the model is rendered, which Strata does not support: it renders every model once, before anything is built, to know the graph, its dependencies and code versions`,
    needle,
  );
}

/** dbt's `api.Column` type helpers, as dbt-duckdb and dbt-postgres have them (only `string` is translated). */
const COLUMN = Object.freeze({
  translate_type: (type: unknown) => {
    const text = sqlText(type, 'translate_type', 'dtype');
    return text.toUpperCase() === 'STRING' ? 'TEXT' : text;
  },
  numeric_type: (type: unknown, precision: unknown, scale: unknown) =>
    precision === null || precision === undefined || scale === null || scale === undefined
      ? sqlText(type, 'numeric_type', 'dtype')
      : `${sqlText(type, 'numeric_type', 'dtype')}(${sqlText(precision, 'numeric_type', 'precision')},${sqlText(scale, 'numeric_type', 'scale')})`,
  string_type: (size: unknown) => `character varying(${sqlText(size, 'string_type', 'size')})`,
});

/** Where a dispatch of `name` is written: `adapter.dispatch('name'`, else a call of the dbt macro. */
function dispatchNeedle(name: string): readonly string[] {
  return [`dispatch('${name}'`, `dispatch("${name}"`, ...macroNeedle(name)];
}

/** The arguments of a call of `macro`, by parameter name (positional, then keywords, then defaults). */
function bind(name: string, macro: CrossDbMacro, args: readonly unknown[]): Record<string, unknown> {
  const { positional, keywords } = splitKeywords(args);
  if (positional.length > macro.params.length)
    throw contextFailure(`dbt.${name}() takes ${macro.params.length} arguments, not ${positional.length}`, macroNeedle(name));
  for (const keyword of Object.keys(keywords))
    if (!macro.params.includes(keyword)) throw contextFailure(`dbt.${name}() has no argument ${keyword}`, macroNeedle(name));
  const bound: Record<string, unknown> = {};
  macro.params.forEach((param, index) => {
    if (index < positional.length) bound[param] = positional[index];
    else if (Object.hasOwn(keywords, param)) bound[param] = keywords[param];
    else if (Object.hasOwn(macro.defaults, param)) bound[param] = macro.defaults[param];
    else throw contextFailure(`dbt.${name}() needs its argument ${param}`, macroNeedle(name));
  });
  return bound;
}

/** Built contexts by their settings: built once per load and target, not once per rendering. */
const built = new WeakMap<DbtAdapterConfig, Map<string, { context: Readonly<Record<string, unknown>>; use(macros: ProjectMacros): void }>>();

/**
 * The adapter functions and dbt's macros of one rendering, dispatching to the project's
 * `macros` first where dbt does. The functions are made once per settings; each rendering sets
 * the macros they dispatch to (renderings run one at a time, synchronously).
 */
export function adapterContext(settings: AdapterSettings, macros: ProjectMacros): Readonly<Record<string, unknown>> {
  let byTarget = built.get(settings.config);
  if (byTarget === undefined) {
    byTarget = new Map();
    built.set(settings.config, byTarget);
  }
  const key = `${settings.type}\0${settings.project ?? ''}`;
  let entry = byTarget.get(key);
  if (entry === undefined) {
    entry = buildAdapterContext(settings);
    byTarget.set(key, entry);
  }
  entry.use(macros);
  return entry.context;
}

function buildAdapterContext(settings: AdapterSettings): { context: Readonly<Record<string, unknown>>; use(macros: ProjectMacros): void } {
  const { type, config } = settings;
  let macros: ProjectMacros = { get: () => undefined };
  const project = settings.project ?? '';
  const dbtCall: DbtCall = (name, ...args) => sqlText((namespace[name] as Callable)(...args), name, 'its result');

  /** dbt's own implementation `<prefix>__<name>` of a cross-database macro, callable. */
  const builtin = (implementation: string): Callable | undefined => {
    const at = implementation.indexOf('__');
    const name = implementation.slice(at + 2);
    const macro = at < 0 ? undefined : CROSS_DB_MACROS.get(name);
    const body = macro === undefined || macro.direct ? undefined : macro.implementations[implementation.slice(0, at)];
    return macro === undefined || body === undefined ? undefined : (...args) => body(bind(name, macro, args), dbtCall, type);
  };

  const searchOrder = (namespace: string | null, name: string): (string | null)[] => {
    if (namespace === null) return [null];
    const configured = config.dispatch[namespace];
    if (configured !== undefined) {
      const other = configured.find((pkg) => pkg !== project && pkg !== DBT);
      if (other !== undefined)
        throw contextFailure(
          `adapter.dispatch('${name}', '${namespace}'): the search_order of dbt_project.yml's dispatch: names package ${other}: dbt packages are not supported yet`,
          dispatchNeedle(name),
        );
      return [...configured];
    }
    return namespace === project || namespace === DBT ? [...new Set([project, namespace])] : [project];
  };

  const find = (pkg: string | null, implementation: string): Callable | undefined => {
    if (pkg === null) return macros.get(implementation) ?? builtin(implementation);
    return pkg === DBT ? builtin(implementation) : macros.get(implementation);
  };

  const dispatch = (...args: unknown[]): Callable => {
    const { positional, keywords } = splitKeywords(args);
    const name = positional[0];
    const namespace = positional[1] ?? keywords.macro_namespace ?? null;
    if (typeof name !== 'string') throw contextFailure('adapter.dispatch() takes the name of a macro', 'dispatch(');
    if (keywords.packages !== undefined)
      throw contextFailure(
        `adapter.dispatch('${name}'): packages= is no longer supported by dbt: use macro_namespace= and a dispatch: config`,
        dispatchNeedle(name),
      );
    if (name.includes('.')) {
      const [before, after] = [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)];
      throw contextFailure(
        `adapter.dispatch('${name}'): "." is not valid in a macro name; did you mean adapter.dispatch('${after}', macro_namespace='${before}')?`,
        dispatchNeedle(name),
      );
    }
    if (namespace !== null && typeof namespace !== 'string')
      throw contextFailure(`adapter.dispatch('${name}'): macro_namespace must be a string`, dispatchNeedle(name));
    const attempts: string[] = [];
    for (const pkg of searchOrder(namespace, name)) {
      for (const prefix of [type, 'default']) {
        const implementation = `${prefix}__${name}`;
        attempts.push(pkg === null || pkg === '' ? implementation : `${pkg}.${implementation}`);
        const found = find(pkg, implementation);
        if (found !== undefined) return found;
      }
    }
    const unknownPackage = namespace !== null && namespace !== project && namespace !== DBT && config.dispatch[namespace] === undefined;
    throw contextFailure(
      `adapter.dispatch('${name}'${namespace === null ? '' : `, '${namespace}'`}) finds no macro for target type ${type}: searched ${attempts.join(', ')}${
        unknownPackage ? ` (${namespace} would be a package: Strata reads a package's macros only for its generic tests)` : ''
      }`,
      dispatchNeedle(name),
    );
  };

  // dbt's global macros: `dbt.<name>` dispatches in the dbt namespace; each implementation is there too.
  const namespace: Record<string, Callable> = {};
  for (const [name, macro] of CROSS_DB_MACROS) {
    const direct = macro.implementations.default;
    if (macro.direct === true && direct !== undefined) namespace[name] = (...args) => direct(bind(name, macro, args), dbtCall, type);
    else namespace[name] = (...args) => dispatch(name, DBT)(...args);
    for (const prefix of macro.direct === true ? [] : Object.keys(macro.implementations))
      namespace[`${prefix}__${name}`] = builtin(`${prefix}__${name}`) as Callable;
  }

  const quote = (identifier: unknown) => `"${sqlText(identifier, 'quote', 'identifier')}"`;
  const quoteAs = (identifier: unknown, part: DbtQuotingPart) => (config.quoting[part] ? quote(identifier) : sqlText(identifier, 'quote', 'identifier'));
  const adapter: Record<string, unknown> = {
    dispatch,
    type: () => type,
    quote,
    quote_as_configured: (identifier: unknown, key: unknown) =>
      key === 'database' || key === 'schema' || key === 'identifier' ? quoteAs(identifier, key) : sqlText(identifier, 'quote_as_configured', 'identifier'),
  };
  for (const name of ADAPTER_NEEDS_DATABASE) adapter[name] = () => needsDatabase(`adapter.${name}`, name);

  const relation = (...args: unknown[]) => {
    const { positional, keywords } = splitKeywords(args);
    const [database, schema, identifier] = (['database', 'schema', 'identifier'] as const).map((part, i) => positional[i] ?? keywords[part] ?? null);
    const parts = (
      [
        ['database', database],
        ['schema', schema],
        ['identifier', identifier],
      ] as const
    ).filter(([, value]) => value !== null && value !== undefined);
    const text = parts.map(([part, value]) => quoteAs(value, part)).join('.');
    return safeText(text, { database, schema, identifier, name: identifier });
  };

  const context: Record<string, unknown> = {
    // Unqualified, as dbt's global macros are (a project macro of the same name wins: it is imported over it).
    ...namespace,
    dbt: namespace,
    adapter,
    api: { Relation: { create: relation }, Column: COLUMN },
    exceptions: {
      raise_compiler_error: (message: unknown) => {
        throw contextFailure(String(message), 'raise_compiler_error');
      },
    },
    log: () => '',
    // dbt renders a model's SQL with `execute` true: `{% if execute %}` blocks are part of it.
    execute: true,
  };
  for (const name of NEEDS_DATABASE) context[name] = () => needsDatabase(name, name);
  // `<project>.macro()`: the project's own macros by its name, as dbt has them.
  if (project !== '' && !Object.hasOwn(context, project))
    context[project] = new Proxy(Object.freeze({}), { get: (_target, name) => (typeof name === 'string' ? macros.get(name) : undefined) });
  Object.freeze(namespace);
  Object.freeze(adapter);
  return {
    context: Object.freeze(context),
    use: (current) => {
      macros = current;
    },
  };
}
