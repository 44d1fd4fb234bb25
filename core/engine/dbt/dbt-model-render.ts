/**
 * The dbt context a model's Jinja is rendered in: `ref()` (one or two arguments), `source()`,
 * `config()`, `var()`, `env_var()`, `this`, `is_incremental()`, `target` (name, schema, type,
 * database, threads, profile_name), and the adapter functions and dbt's macros of
 * dbt-adapter-context.ts (`adapter.dispatch`, `dbt.dateadd`…). `ref()` and `this` print
 * placeholders, resolved once every model's key is known (see dbt-project-loader.ts).
 */
import { contextFailure, renderDbtTemplate, safeText, splitKeywords, type ProjectMacros, type RenderProblem, type TemplatePart } from './dbt-jinja.ts';
import { adapterContext, DEFAULT_ADAPTER_CONFIG } from './dbt-adapter-context.ts';
import type { DbtAdapterConfig } from '../../model/dbt/dbt-adapter-config.ts';
import type { RawConfig } from '../../model/dbt/dbt-config.ts';
import type { DbtSourceTable } from './dbt-project-files.ts';
import { DBT_DEFAULT_LAYER } from '../../model/dbt/dbt-model-mapping.ts';
import type { DbtLoadCache } from './dbt-load-cache.ts';
import { sourcePlaceholder } from './dbt-source-placeholder.ts';

/** A rendered model: its text with placeholders, the configs its `config()` calls set, the models it refs. */
export interface RenderedModel {
  readonly text: string;
  readonly configs: readonly RawConfig[];
  /**
   * Ref placeholder `__strata_dbt_ref_<i>__` names `refs[i]`; `__strata_dbt_ref_<i>_whole__`
   * too, printed by `ref(…).render()`: never filtered to a microbatch model's batch.
   */
  readonly refs: readonly string[];
}

/** What a rendering needs besides the template. */
export interface RenderSettings {
  readonly vars: Readonly<Record<string, unknown>>;
  /** `target.type`, `target.schema` (`main`, DuckDB's, when absent) and `target.database`. */
  readonly target: { readonly type: string; readonly schema?: string; readonly database?: string };
  readonly sources: ReadonlyMap<string, DbtSourceTable>;
  /** What `is_incremental()` returns. */
  readonly incremental: boolean;
  /** The dbt project's name (a two-argument `ref` must name it). */
  readonly project?: string;
  /** `dispatch:`, `quoting:` and `profile:` of `dbt_project.yml` (dbt's defaults when absent). */
  readonly adapter?: DbtAdapterConfig;
}

/** The name of the target Strata renders for (`target.name`). */
export const DBT_TARGET_NAME = 'dev';

/**
 * Renders one model in the dbt context, or takes its rendering from `cache` (whose render
 * settings must be those of `macros` and `settings`).
 */
export function renderModel(
  model: TemplatePart,
  macros: readonly TemplatePart[],
  settings: RenderSettings,
  cache?: DbtLoadCache,
): RenderedModel | RenderProblem {
  const cached = cache?.render(model.text, settings.incremental);
  if (cached !== undefined) return cached;
  const env: Record<string, string | null> = {};
  const varsRead: Record<string, unknown[]> = {};
  const configs: RawConfig[] = [];
  const refs: string[] = [];
  const text = (value: unknown, what: string, needle: string): string => {
    if (typeof value !== 'string') throw contextFailure(`${what} must be a string`, needle);
    return value;
  };
  const adapter = settings.adapter ?? DEFAULT_ADAPTER_CONFIG;
  const context = (macros: ProjectMacros): Record<string, unknown> => ({
    ...adapterContext({ type: settings.target.type, project: settings.project, config: adapter }, macros),
    ref: (...args: unknown[]) => {
      const { positional } = splitKeywords(args);
      if (positional.length === 0 || positional.length > 2) throw contextFailure('ref() takes a model name, or a package and a model name', 'ref(');
      const name = text(positional[positional.length - 1], 'ref()', 'ref(');
      if (positional.length === 2) {
        const pkg = text(positional[0], 'ref()', 'ref(');
        if (settings.project !== undefined && pkg !== settings.project)
          throw contextFailure(`ref('${pkg}', '${name}') names package ${pkg}: dbt packages are not supported yet`, `'${pkg}'`);
      }
      refs.push(name);
      const index = refs.length - 1;
      return safeText(`__strata_dbt_ref_${index}__`, { render: () => `__strata_dbt_ref_${index}_whole__` });
    },
    source: (...args: unknown[]) => {
      const [source, table] = splitKeywords(args).positional;
      const found = settings.sources.get(`${String(source)}.${String(table)}`);
      if (found === undefined)
        throw contextFailure(`source('${String(source)}', '${String(table)}') is not declared in a sources: block of a .yml file`, `${String(table)}`);
      const relation = sourceRelation(found);
      if (found.eventTime === undefined) return relation;
      // A table with event_time: resolved once the model is known to be microbatch (dbt-ref-resolution.ts).
      return safeText(sourcePlaceholder({ relation, eventTime: found.eventTime, table: String(table) }), { render: () => relation });
    },
    config: (...args: unknown[]) => {
      const { positional, keywords } = splitKeywords(args);
      if (positional.length > 0) throw contextFailure('config() takes keyword arguments only (config(materialized="table"))', 'config(');
      configs.push(keywords);
      return '';
    },
    var: (...args: unknown[]) => {
      const { positional } = splitKeywords(args);
      const name = text(positional[0], 'var()', 'var(');
      const set = Object.hasOwn(settings.vars, name);
      // A copy: a template that changes a list var must not change what the cache compares with.
      varsRead[name] = set ? [structuredClone(settings.vars[name])] : [];
      if (set) return settings.vars[name];
      if (positional.length > 1) return positional[1];
      throw contextFailure(`var('${name}') has no value: set it under vars: in dbt_project.yml, or give a default`, name);
    },
    env_var: (...args: unknown[]) => {
      const { positional } = splitKeywords(args);
      const name = text(positional[0], 'env_var()', 'env_var(');
      const value = process.env[name];
      env[name] = value ?? null;
      if (value !== undefined) return value;
      if (positional.length > 1) return positional[1];
      throw contextFailure(`env_var('${name}'): the environment variable is not set and no default is given`, name);
    },
    is_incremental: () => settings.incremental,
    this: '__strata_dbt_this__',
    target: Object.freeze({
      name: DBT_TARGET_NAME,
      schema: settings.target.schema ?? DBT_DEFAULT_LAYER,
      type: settings.target.type,
      threads: 1,
      ...(settings.target.database === undefined ? {} : { database: settings.target.database }),
      ...(adapter.profile === undefined ? {} : { profile_name: adapter.profile }),
    }),
  });
  const rendered = renderDbtTemplate(model, macros, context);
  if ('message' in rendered) return rendered;
  const result = { text: rendered.text, configs, refs };
  cache?.storeRender(model.text, settings.incremental, result, env, varsRead);
  return result;
}

/** The relation `{{ source() }}` prints for a source table: `"schema"."identifier"`. */
export function sourceRelation(table: DbtSourceTable): string {
  return `${quote(table.schema)}.${quote(table.identifier)}`;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
