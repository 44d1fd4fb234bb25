/**
 * A dbt project's source tables as Strata source assets, for the tables no asset of the project
 * builds (the project loader decides): each is observed in the warehouse by its row count and a
 * checksum of its rows, so the models reading it become stale when its data changes, and, with
 * `loaded_at_field` and a `freshness`, by the newest `loaded_at_field` value, its data time.
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { dbtSourceTables, type DbtSourceFreshness, type DbtSourceSpec } from '../../model/dbt/dbt-source-config.ts';
import { DBT_KIND, dbtRelation } from '../../model/dbt/dbt-model-mapping.ts';
import { makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { keyProblem, tableToKey } from '../../model/definitions/asset-key.ts';
import { sourceAsset, type ObserveContext, type SourceObservation } from '../../model/definitions/source-asset.ts';
import { LOADED_AT_METADATA } from '../../model/freshness/source-freshness.ts';
import type { DbtProjectFiles, DbtYamlEntry } from './dbt-project-files.ts';
import type { DbtTarget } from './dbt-project-loader.ts';
import type { CheckSpec } from '../../model/definitions/check-spec.ts';

/** A dbt source table as a Strata source asset, with its dbt name. */
export interface DbtSourceAsset {
  /** `source.<project>.<source>.<table>`. */
  readonly id: string;
  readonly definition: AssetDefinition;
}

/** The checks of a source table's tests, from its YAML entry, for the asset `key` (problems reported by it, naming the entry's file). */
export type SourceChecks = (yaml: DbtYamlEntry, key: string) => readonly CheckSpec[];

/**
 * The source assets of every `sources:` table of `files`, with the checks `checksOf` makes of
 * their tests (problems pushed on `errors`, naming file and line).
 */
export function dbtSourceAssets(files: DbtProjectFiles, target: DbtTarget, errors: DefinitionError[], checksOf: SourceChecks = () => []): DbtSourceAsset[] {
  const assets: DbtSourceAsset[] = [];
  for (const { entry, file, path, folders } of files.sourceEntries) {
    const { tables, problems } = dbtSourceTables(entry, target.database);
    for (const problem of problems) {
      const line = yamlLine(path, problem.path);
      errors.push(new DefinitionError('dbt_source_invalid', problem.message, { file: line === undefined ? file : `${file}:${line}` }));
    }
    if (problems.length > 0) continue;
    for (const table of tables) {
      const key = tableToKey(table.schema, table.identifier);
      const issue = keyProblem(key);
      if (issue !== undefined) {
        errors.push(new DefinitionError('dbt_source_invalid', `source ${table.name}: ${issue}`, { file }));
        continue;
      }
      assets.push({
        id: `source.${files.name}.${table.name}`,
        definition: sourceDefinition(key, table, target, file, checksOf({ entry: table.entry, file, folders }, key)),
      });
    }
  }
  return assets;
}

function sourceDefinition(key: string, table: DbtSourceSpec, target: DbtTarget, file: string, checks: readonly CheckSpec[]): AssetDefinition {
  const sql = observeSql(key, table.freshness, target);
  const observe = async (ctx: ObserveContext): Promise<SourceObservation[]> => {
    const rows = await ctx.warehouse.query(sql);
    const row = rows[0] ?? {};
    const rowCount = String(row.row_count ?? '0');
    const checksum = String(row.checksum ?? '0');
    const loadedAt = row.loaded_at_ms === null || row.loaded_at_ms === undefined ? null : Number(row.loaded_at_ms);
    const metadata = {
      row_count: Number(rowCount),
      ...(table.freshness === undefined ? {} : { [LOADED_AT_METADATA]: loadedAt === null ? null : new Date(loadedAt).toISOString() }),
    };
    return [{ dataVersion: `${rowCount}-${checksum}`, metadata }];
  };
  const definition = sourceAsset({
    key,
    kinds: [DBT_KIND],
    tags: Object.fromEntries(table.tags.map((tag) => [tag, ''])),
    ...(table.description === undefined ? {} : { description: table.description }),
    ...(table.owner === undefined ? {} : { owners: [table.owner] }),
    observe,
  });
  const spec = Object.freeze({
    ...definition.spec,
    ...(checks.length === 0 ? {} : { checks: Object.freeze([...checks]) }),
    ...(Object.keys(table.columnDescriptions).length === 0 ? {} : { columnDescriptions: table.columnDescriptions }),
    ...(table.freshness === undefined ? {} : { freshnessPolicy: Object.freeze({ maxLagMs: table.freshness.maxLagMs }) }),
  });
  return makeDefinition(spec, definition.compute, file);
}

/**
 * The one-row query that observes a source table: `row_count`, a `checksum` of its rows, and
 * with a freshness the newest `loaded_at_field` (rows matching `filter`) in epoch milliseconds.
 */
function observeSql(key: string, freshness: DbtSourceFreshness | undefined, target: DbtTarget): string {
  const table = dbtRelation(key);
  const checksum = target.type === 'duckdb' ? 'coalesce(bit_xor(hash(t)), 0)::text' : 'coalesce(sum(hashtext(t::text)::bigint), 0)::text';
  let loadedAt = '';
  if (freshness !== undefined) {
    const filter = freshness.filter === undefined ? '' : ` filter (where ${freshness.filter})`;
    loadedAt = `, floor(extract(epoch from max("${freshness.loadedAtField}")${filter}) * 1000)::bigint::text as loaded_at_ms`;
  }
  return `select count(*)::bigint::text as row_count, ${checksum} as checksum${loadedAt} from ${table} t`;
}

/**
 * The line (1-based) of a YAML key path in a file: each name or key found in order below the
 * one before it (`- name: raw`, then `- name: events`, then `database:`). `undefined` when the
 * file cannot be read or a step is not found.
 */
function yamlLine(path: string, keys: readonly string[]): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let from = 0;
  let found: number | undefined;
  for (const [index, step] of keys.entries()) {
    // The first step is `sources:`; after it come names of list entries, then mapping keys.
    const name = new RegExp(`^\\s*-\\s*name:\\s*['"]?${literal(step)}['"]?\\s*(#.*)?$`);
    const key = new RegExp(`^\\s*(-\\s*)?['"]?${literal(step)}['"]?\\s*:`);
    let at = -1;
    for (let i = from; i < lines.length; i++) {
      const line = lines[i] as string;
      if ((index > 0 && name.test(line)) || key.test(line)) {
        at = i;
        break;
      }
    }
    if (at < 0) return found === undefined ? undefined : found + 1;
    found = at;
    from = at + 1;
  }
  return found === undefined ? undefined : found + 1;
}
