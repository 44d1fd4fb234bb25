/**
 * Where each dbt node's file is in its dbt project, recorded on the asset it became
 * (`AssetSpec.dbtPath`), so `path:` selection needs no file system.
 */
import { relative, resolve, sep } from 'node:path';
import { makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { DbtNode } from './dbt-project-loader.ts';

/** The paths of a dbt project's nodes, by asset key. */
export interface DbtNodePaths {
  /** Models, seeds and snapshots: their file. */
  readonly built: ReadonlyMap<string, string>;
  /** Sources: the YAML file declaring them (for the source asset only, not an asset that builds the table). */
  readonly sources: ReadonlyMap<string, string>;
}

/** The path of each node's file relative to the dbt project in `dbtDir` (`nodes` name files relative to `projectDir`). */
export function dbtNodePaths(nodes: readonly DbtNode[], dbtDir: string, projectDir: string): DbtNodePaths {
  const built = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const node of nodes) {
    if (node.key === null || node.file === '') continue;
    const path = relative(dbtDir, resolve(projectDir, node.file)).split(sep).join('/');
    (node.materialized === 'source' ? sources : built).set(node.key, path);
  }
  return { built, sources };
}

/** `definition` with its dbt node's path in its spec; unchanged without one. */
export function withDbtPath(definition: AssetDefinition, path: string | undefined): AssetDefinition {
  if (path === undefined) return definition;
  return makeDefinition(Object.freeze({ ...definition.spec, dbtPath: path }), definition.compute, definition.file);
}
