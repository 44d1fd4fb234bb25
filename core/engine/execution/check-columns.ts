import { keyToTable } from '../../model/definitions/asset-key.ts';
import { DefinitionError, DefinitionErrors } from '../../model/errors.ts';
import type { Project } from '../../model/project.ts';
import type { Row } from '../../model/definitions/asset-context.ts';
import type { CheckSpec } from '../../model/definitions/check-spec.ts';

/** Reads DuckDB (the warehouse's own connection or a session). */
interface Reader {
  all<T extends Row = Row>(sql: string): Promise<T[]>;
}

/**
 * Before a run writes anything: the checks of `keys` naming a column their asset's table (or,
 * for relationships, the other asset's table) does not have, checked against the tables that
 * exist now. Throws {@link DefinitionErrors} naming each asset, check, column and file. A table
 * not built yet cannot be checked here; its checks report a missing column when they run.
 */
export async function assertCheckColumns(project: Project, keys: readonly string[], reader: Reader): Promise<void> {
  const withChecks = keys.filter((k) => project.graph.has(k) && project.graph.spec(k).checks.length > 0);
  if (withChecks.length === 0) return;
  const rows = await reader.all<{ table_schema: string; table_name: string; column_name: string }>(
    'SELECT table_schema, table_name, column_name FROM information_schema.columns',
  );
  const columnsOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const name = `${r.table_schema}.${r.table_name}`;
    const set = columnsOf.get(name) ?? new Set<string>();
    set.add(r.column_name);
    columnsOf.set(name, set);
  }
  const tableColumns = (key: string) => {
    const { schema, table } = keyToTable(key);
    return columnsOf.get(`${schema}.${table}`);
  };
  const errors: DefinitionError[] = [];
  for (const key of withChecks) {
    const definition = project.definitions.get(key);
    const context = { assetKey: key, ...(definition?.file === undefined ? {} : { file: definition.file }) };
    for (const check of project.graph.spec(key).checks) {
      for (const [asset, column] of namedColumns(key, check)) {
        const existing = tableColumns(asset);
        if (existing === undefined || existing.has(column)) continue;
        const listed = [...existing].slice(0, 12).join(', ');
        errors.push(new DefinitionError('check_column_unknown', `check ${check.name}: ${asset} has no column "${column}" (its columns: ${listed})`, context));
      }
    }
  }
  if (errors.length > 0) throw new DefinitionErrors(errors);
}

/** `[asset, column]` pairs a check reads; a schema check's columns are its subject, not an input. */
function namedColumns(key: string, check: CheckSpec): [string, string][] {
  switch (check.type) {
    case 'unique':
      return check.columns.map((c) => [key, c]);
    case 'relationships':
      return [
        [key, check.column],
        [check.to, check.field],
      ];
    case 'not_null':
    case 'not_empty_string':
    case 'accepted_values':
    case 'accepted_range':
    case 'freshness':
      return [[key, check.column]];
    default:
      return [];
  }
}
