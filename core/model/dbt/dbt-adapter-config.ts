/**
 * What `dbt_project.yml` sets for the adapter functions of the Jinja context: `dispatch:` (the
 * packages `adapter.dispatch` searches for a namespace, in order), `quoting:` (what
 * `adapter.quote_as_configured` and `api.Relation.create` quote) and `profile:` (`target.profile_name`).
 */
import { isObject } from './dbt-config.ts';

/** The parts of a relation name `quoting:` configures. */
export type DbtQuotingPart = 'database' | 'schema' | 'identifier';

/** `dispatch:`, `quoting:` and `profile:` of `dbt_project.yml`, checked. */
export interface DbtAdapterConfig {
  /** Search order of the packages `adapter.dispatch(name, namespace)` looks in, by namespace. */
  readonly dispatch: Readonly<Record<string, readonly string[]>>;
  /** Whether each part is quoted (dbt's default on DuckDB and Postgres: every part). */
  readonly quoting: Readonly<Record<DbtQuotingPart, boolean>>;
  /** The profile `dbt_project.yml` names, if any. */
  readonly profile?: string;
}

const PARTS: readonly DbtQuotingPart[] = ['database', 'schema', 'identifier'];

/**
 * The adapter settings of a parsed `dbt_project.yml`, and what is wrong with them (each a
 * sentence naming the key).
 *
 * @example
 * dbtAdapterConfig({ dispatch: [{ macro_namespace: 'dbt', search_order: ['shop', 'dbt'] }] }).config.dispatch
 * // { dbt: ['shop', 'dbt'] }
 */
export function dbtAdapterConfig(project: Readonly<Record<string, unknown>>): { config: DbtAdapterConfig; problems: string[] } {
  const problems: string[] = [];
  const dispatch: Record<string, readonly string[]> = {};
  const entries = project.dispatch ?? [];
  if (!Array.isArray(entries)) problems.push('dispatch: must be a list of { macro_namespace, search_order } entries');
  else
    for (const entry of entries) {
      const namespace = isObject(entry) ? entry.macro_namespace : undefined;
      const order = isObject(entry) ? entry.search_order : undefined;
      if (typeof namespace !== 'string' || !Array.isArray(order) || order.length === 0 || !order.every((p) => typeof p === 'string'))
        problems.push('dispatch: each entry needs macro_namespace (a string) and search_order (a list of package names)');
      else if (Object.hasOwn(dispatch, namespace)) problems.push(`dispatch: macro_namespace ${namespace} is given twice`);
      else dispatch[namespace] = Object.freeze([...order]);
    }
  const quoting: Record<DbtQuotingPart, boolean> = { database: true, schema: true, identifier: true };
  const configured = project.quoting ?? {};
  // Other keys (snowflake_ignore_case…) change nothing Strata renders.
  if (!isObject(configured)) problems.push('quoting: must map database, schema and identifier to true or false');
  else
    for (const part of PARTS) {
      const value = configured[part];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') problems.push(`quoting: ${part} must be true or false`);
      else quoting[part] = value;
    }
  const profile = typeof project.profile === 'string' ? project.profile : undefined;
  return {
    config: Object.freeze({ dispatch: Object.freeze(dispatch), quoting: Object.freeze(quoting), ...(profile === undefined ? {} : { profile }) }),
    problems,
  };
}
