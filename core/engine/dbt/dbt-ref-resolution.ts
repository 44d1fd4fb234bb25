/**
 * A dbt node's rendered text with its `ref()` placeholders resolved, once every model's key is
 * known: refs become tables, refs to ephemeral models CTEs in front of the query.
 */
import { ephemeralCteName, injectCtes } from '../../model/dbt/dbt-ephemeral.ts';
import type { DbtModelConfig } from '../../model/dbt/dbt-config.ts';
import { dbtRelation } from '../../model/dbt/dbt-model-mapping.ts';
import { batchFilteredRelation } from '../../model/dbt/dbt-microbatch.ts';
import { extractQuery } from '../../model/definitions/sql-query-body.ts';
import { tableToKey } from '../../model/definitions/asset-key.ts';
import { sourceRelation, type RenderedModel } from './dbt-model-render.ts';
import type { DbtSourceTable } from './dbt-project-files.ts';
import { placedSource, SOURCE_PLACEHOLDER } from './dbt-source-placeholder.ts';

/** A rendered, enabled dbt model. */
export interface ModelNode {
  readonly name: string;
  readonly file: string;
  readonly path: string;
  /** The model's template, as read. */
  readonly template: string;
  readonly rendered: RenderedModel;
  readonly config: DbtModelConfig;
  readonly key: string;
}

const REF = /__strata_dbt_ref_(\d+)(_whole)?__/g;

/** How a microbatch model reads the nodes with `event_time` it refs (see core/model/dbt/dbt-microbatch.ts). */
export interface BatchReads {
  /** The `event_time` of a model, seed or snapshot it refs, if it has one. */
  eventTimeOf(name: string): string | undefined;
  /** Name each filtering subquery, as dbt-postgres does (a Postgres warehouse). */
  readonly aliased: boolean;
}

const THIS = /__strata_dbt_this__/g;

/**
 * A model's rendered text with its placeholders resolved: refs become tables (ephemeral models
 * CTEs in front of the query), `{{ this }}` the model's table (Strata's `{{ this }}` in an
 * incremental model, bound when it runs). `undefined` when a ref names nothing (reported).
 * `batch`, for a microbatch model: a node it refs with an `event_time` is read for the batch
 * only (not through `ref(…).render()`), as is a source table with `event_time`.
 */
export function resolveBody(
  node: ModelNode,
  text: string,
  nodes: ReadonlyMap<string, ModelNode>,
  keyOfRef: (name: string) => string | undefined,
  finals: Map<string, string>,
  stack: readonly string[],
  fail: (message: string) => void,
  batch?: BatchReads,
): string | undefined {
  const ctes: [string, string][] = [];
  let broken = false;
  const resolved = text
    .replace(REF, (_match, index: string, unfiltered: string | undefined) => {
      const name = node.rendered.refs[Number(index)] as string;
      const target = nodes.get(name);
      if (target?.config.materialized === 'ephemeral') {
        if (stack.includes(name) || name === node.name) {
          fail(`ephemeral models ref each other in a cycle (${[...stack, node.name, name].join(' → ')})`);
          broken = true;
          return name;
        }
        let inlined = finals.get(name);
        if (inlined === undefined) {
          inlined = resolveBody(target, target.rendered.text, nodes, keyOfRef, finals, [...stack, node.name], fail);
          if (inlined === undefined) {
            broken = true;
            return name;
          }
          finals.set(name, inlined);
        }
        if (!ctes.some(([cte]) => cte === ephemeralCteName(name))) ctes.push([ephemeralCteName(name), extractQuery(inlined, () => {}) ?? inlined]);
        return ephemeralCteName(name);
      }
      const key = keyOfRef(name);
      if (key === undefined) {
        fail(`ref('${name}') names no model or seed of this dbt project`);
        broken = true;
        return name;
      }
      const eventTime = unfiltered === undefined ? batch?.eventTimeOf(name) : undefined;
      if (eventTime === undefined) return dbtRelation(key);
      return batchFilteredRelation(dbtRelation(key), eventTime, batch?.aliased ? name : undefined);
    })
    .replace(SOURCE_PLACEHOLDER, (_match, hex: string) => {
      const { relation, eventTime, table } = placedSource(hex);
      return batch === undefined ? relation : batchFilteredRelation(relation, eventTime, batch.aliased ? table : undefined);
    })
    .replace(THIS, () => (node.config.materialized === 'incremental' ? '{{ this }}' : dbtRelation(node.key)));
  return broken ? undefined : injectCtes(resolved, ctes);
}

/**
 * The keys of what a node's renderings read through `ref()` (through ephemeral models too) and
 * `source()` (a declared source table whose relation the text holds), as dbt builds its graph:
 * the node's dependencies when its SQL is Postgres SQL DuckDB's parser cannot read.
 */
export function refDependencies(
  renderings: readonly RenderedModel[],
  nodes: ReadonlyMap<string, ModelNode>,
  keyOfRef: (name: string) => string | undefined,
  sources: ReadonlyMap<string, DbtSourceTable>,
): string[] {
  const keys = new Set<string>();
  const seen = new Set<string>();
  const visit = (rendered: RenderedModel) => {
    // A source with event_time is printed as a placeholder carrying its relation.
    const placed = new Set([...rendered.text.matchAll(SOURCE_PLACEHOLDER)].map((m) => placedSource(m[1] as string).relation));
    for (const table of sources.values()) {
      const relation = sourceRelation(table);
      if (rendered.text.includes(relation) || placed.has(relation)) keys.add(tableToKey(table.schema, table.identifier));
    }
    for (const name of rendered.refs) {
      const target = nodes.get(name);
      if (target?.config.materialized !== 'ephemeral') {
        const key = keyOfRef(name);
        if (key !== undefined) keys.add(key);
      } else if (!seen.has(name)) {
        seen.add(name);
        visit(target.rendered);
      }
    }
  };
  for (const rendered of renderings) visit(rendered);
  return [...keys];
}
