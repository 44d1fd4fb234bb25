/**
 * Descriptions of dbt nodes as `schema.yml` writes them: the node's own and its columns', with
 * `{{ doc('name') }}` replaced by the project's `{% docs %}` blocks.
 */
import { isObject } from '../../model/dbt/dbt-config.ts';
import type { DbtProjectFiles } from './dbt-project-files.ts';

/** A description, with `{{ doc('name') }}` replaced by its docs block. */
export function describe(value: unknown, files: DbtProjectFiles, fail: (message: string) => void): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.replace(/\{\{\s*doc\(\s*['"](\w+)['"]\s*\)\s*\}\}/g, (_whole, name: string) => {
    const text = files.docs.get(name);
    if (text === undefined) fail(`the description uses doc('${name}'), which no {% docs %} block defines`);
    return text ?? '';
  });
}

/** The descriptions of a schema.yml entry's columns (with `doc()` blocks), by column name. */
export function columnDescriptions(entry: Readonly<Record<string, unknown>>, files: DbtProjectFiles, fail: (message: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  for (const column of Array.isArray(entry.columns) ? entry.columns : []) {
    if (!isObject(column) || typeof column.name !== 'string') continue;
    const text = describe(column.description, files, fail);
    if (text !== undefined && text !== '') out[column.name] = text;
  }
  return Object.freeze(out);
}
