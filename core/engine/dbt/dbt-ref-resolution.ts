/**
 * A dbt node's rendered text with its `ref()` placeholders resolved, once every model's key is
 * known: refs become tables, refs to ephemeral models CTEs in front of the query.
 */
import { ephemeralCteName, injectCtes } from '../../model/dbt/dbt-ephemeral.ts';
import type { DbtModelConfig } from '../../model/dbt/dbt-config.ts';
import { dbtRelation } from '../../model/dbt/dbt-model-mapping.ts';
import { extractQuery } from '../../model/definitions/sql-query-body.ts';
import type { RenderedModel } from './dbt-model-render.ts';

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

const REF = /__strata_dbt_ref_(\d+)__/g;
const THIS = /__strata_dbt_this__/g;

/**
 * A model's rendered text with its placeholders resolved: refs become tables (ephemeral models
 * CTEs in front of the query), `{{ this }}` the model's table (Strata's `{{ this }}` in an
 * incremental model, bound when it runs). `undefined` when a ref names nothing (reported).
 */
export function resolveBody(
  node: ModelNode,
  text: string,
  nodes: ReadonlyMap<string, ModelNode>,
  keyOfRef: (name: string) => string | undefined,
  finals: Map<string, string>,
  stack: readonly string[],
  fail: (message: string) => void,
): string | undefined {
  const ctes: [string, string][] = [];
  let broken = false;
  const resolved = text
    .replace(REF, (_whole, index: string) => {
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
      return dbtRelation(key);
    })
    .replace(THIS, () => (node.config.materialized === 'incremental' ? '{{ this }}' : dbtRelation(node.key)));
  return broken ? undefined : injectCtes(resolved, ctes);
}
