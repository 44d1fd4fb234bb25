/**
 * dbt's `target` for a Strata project: the warehouse's dialect (`duckdb` or `postgres`), the
 * schema models directly in `models/` are built in, and the database a source may name.
 */
import { basename } from 'node:path';
import type { ProjectConfig } from '../../model/config/project-config.ts';
import { DBT_DEFAULT_LAYER } from '../../model/dbt/dbt-model-mapping.ts';

/** The warehouse the models run on, as `target` shows it. */
export interface DbtTarget {
  readonly type: 'duckdb' | 'postgres';
  /**
   * `target.schema`: where models directly in `models/` and snapshots without `target_schema` are
   * built (`main` on DuckDB; on Postgres the first schema of the URL's `search_path`, else `public`).
   */
  readonly schema: string;
  /** The warehouse's database name (a DuckDB file's name without extension, as dbt-duckdb has it): the one `database:` a source may name. */
  readonly database: string;
}

/**
 * The target of a project's warehouse: its dialect, schema and database (a Postgres URL's
 * database, else the DuckDB file's name).
 *
 * @example
 * dbtTarget({ warehouseUrl: 'postgres://db/analytics?options=-c%20search_path%3Dreporting', warehouseFile: '' })
 * // { type: 'postgres', schema: 'reporting', database: 'analytics' }
 */
export function dbtTarget(config: Pick<ProjectConfig, 'warehouseUrl' | 'warehouseFile'>): DbtTarget {
  if (config.warehouseUrl !== undefined) {
    let database = '';
    let schema = POSTGRES_DEFAULT_SCHEMA;
    try {
      const url = new URL(config.warehouseUrl);
      database = decodeURIComponent(url.pathname.replace(/^\//, ''));
      schema = searchPathSchema(url.searchParams.get('options') ?? '') ?? POSTGRES_DEFAULT_SCHEMA;
    } catch {
      // An env: URL not resolved yet: no database to compare with.
    }
    return { type: 'postgres', schema, database };
  }
  const name = basename(config.warehouseFile);
  return { type: 'duckdb', schema: DBT_DEFAULT_LAYER, database: name === ':memory:' ? 'memory' : name.replace(/\.[^.]*$/, '') };
}

/** Where Postgres creates an unqualified table when no `search_path` says otherwise. */
const POSTGRES_DEFAULT_SCHEMA = 'public';

/** The first schema of a `search_path` set in a Postgres `options` parameter (`-c search_path=a,b`), `$user` aside. */
function searchPathSchema(options: string): string | undefined {
  const setting = /(?:^|\s)(?:-c\s*|--)search_path=(\S+)/.exec(options)?.[1];
  const schemas = (setting ?? '').split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
  return schemas.find((s) => s !== '' && s !== '$user');
}
