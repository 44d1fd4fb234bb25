/**
 * The custom SQL checks of a project's assets: what each check's query reads becomes its
 * `reads` (the check's dependencies), and a query that cannot be read or bound is a
 * DefinitionError naming the asset, the check and the file.
 */
import { DefinitionError } from '../../model/errors.ts';
import { makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { keyToTable } from '../../model/definitions/asset-key.ts';
import { renderForParsing, templateProblems, THIS_VARIABLE } from '../../model/definitions/sql-template.ts';
import { withReads, type CheckSpec } from '../../model/definitions/check-spec.ts';
import { dependenciesToKeys, inferSqlDependencies, type SqlDependencyCache } from './sql-dependencies.ts';
import { LazyParser } from './lazy-parser.ts';

/**
 * Reads every custom SQL check with DuckDB's parser (cached like SQL assets): the assets its
 * query reads become the check's `reads` (check dependencies), and a query that does not parse,
 * reads a table that is not an asset or uses a variable that cannot be bound is an error naming
 * the asset, the check and the file — except, on a Postgres warehouse (`postgres`), for a check
 * that knows what it reads already (a dbt singular test's refs). Returns the definitions with
 * their checks' reads filled in.
 */
export async function resolveCustomChecks(
  definitions: readonly AssetDefinition[],
  knownKeys: ReadonlySet<string>,
  cache: SqlDependencyCache | undefined,
  postgres: boolean,
): Promise<{ definitions: AssetDefinition[]; problems: DefinitionError[] }> {
  const problems: DefinitionError[] = [];
  const parser = new LazyParser();
  try {
    const resolved: AssetDefinition[] = [];
    for (const definition of definitions) {
      const { spec, file } = definition;
      if (!spec.checks.some((c) => c.type === 'custom_sql')) {
        resolved.push(definition);
        continue;
      }
      const context = { assetKey: spec.key, ...(file === undefined ? {} : { file }) };
      const checks: CheckSpec[] = [];
      for (const check of spec.checks) {
        if (check.type !== 'custom_sql') {
          checks.push(check);
          continue;
        }
        const { schema, table } = keyToTable(spec.key);
        const withTable = check.sql.replaceAll(THIS_VARIABLE, `${schema}.${table}`);
        const kind = spec.partitions === undefined ? 'none' : spec.partitions.type === 'static' ? 'static' : 'time';
        for (const message of templateProblems(withTable, kind))
          problems.push(new DefinitionError('check_invalid', `check ${check.name}: ${message}`, context));
        const body = renderForParsing(withTable);
        let tables = cache?.get(body);
        if (!tables) {
          const inferred = await inferSqlDependencies(await parser.connection(), body);
          // Postgres SQL DuckDB's parser cannot read, of a check that knows what it reads (a dbt singular test's refs).
          if (!inferred.ok && postgres && check.reads !== undefined) {
            checks.push(check);
            continue;
          }
          if (!inferred.ok) {
            problems.push(new DefinitionError('check_invalid', `check ${check.name}: SQL does not parse: ${inferred.message}`, context));
            checks.push(check);
            continue;
          }
          tables = inferred.tables;
          cache?.set(body, tables);
        }
        const { deps, unknown } = dependenciesToKeys(tables, knownKeys);
        for (const name of unknown) {
          problems.push(new DefinitionError('check_invalid', `check ${check.name}: reads table "${name}", which is not an asset of this project`, context));
        }
        checks.push(
          withReads(
            check,
            [...deps, ...(check.reads ?? [])].filter((key) => key !== spec.key),
          ),
        );
      }
      resolved.push(makeDefinition(Object.freeze({ ...spec, checks: Object.freeze(checks) }), definition.compute, file));
    }
    return { definitions: resolved, problems };
  } finally {
    parser.close();
  }
}
