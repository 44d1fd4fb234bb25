/**
 * Catalog reads of a Postgres warehouse (pg_catalog), and Postgres's type names spelled the way
 * the DuckDB warehouse names its types, which the incremental, snapshot and partition writes
 * compare (`DATE`, `TIMESTAMP`, `VARCHAR`, `DECIMAL(10,2)`, …): words Postgres also accepts in DDL
 * (floats keep Postgres's `DOUBLE PRECISION` and `REAL`, which DuckDB reads too).
 */
import { SNAPSHOT_MARK, type RelationKind } from './snapshot-writes.ts';

/** Schemas that are Postgres's own, left out of the catalog. */
const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp_%'`;

/** Tables and views of the warehouse, sorted: rows of `schema`, `name`, `kind`. */
export const RELATIONS_SQL = `SELECT n.nspname AS schema, c.relname AS name, CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ${SYSTEM_SCHEMAS}
ORDER BY 1, 2`;

/**
 * The catalog as a transaction sees it: rows of `s`, `n`, `kind`, `oid` (changes when a relation
 * is dropped and created again) and `shape` (a hash of a table's columns: changes with ALTER).
 */
export const CATALOG_SQL = `SELECT n.nspname AS s, c.relname AS n, CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, c.oid::bigint AS oid,
  CASE WHEN c.relkind IN ('v', 'm') THEN '0' ELSE (SELECT md5(string_agg(a.attname || ':' || a.atttypid::text, ',' ORDER BY a.attnum))
    FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END AS shape
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ${SYSTEM_SCHEMAS}`;

/** The columns of a relation (`$1` schema, `$2` name) in order: rows of `c` and `t` (Postgres's type name). */
export const COLUMNS_SQL = `SELECT a.attname AS c, format_type(a.atttypid, a.atttypmod) AS t
FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;

/** The names of the types of result columns (`$1` type oids, `$2` modifiers), in order: rows of `t`. */
export const FORMAT_TYPES_SQL = 'SELECT format_type(t.oid, t.mod) AS t FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS t(oid, mod, i) ORDER BY t.i';

/** What a relation (`$1` schema, `$2` name) is: one row of `kind` (`table`/`view`) and its `comment`, or none. */
export const RELATION_KIND_SQL = `SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm')`;

/** The kind of a relation from a {@link RELATION_KIND_SQL} row. */
export function relationKindOf(row: { kind: string; comment: string | null } | undefined): RelationKind {
  if (row === undefined) return 'none';
  if (row.kind === 'view') return 'view';
  return row.comment === SNAPSHOT_MARK ? 'snapshot' : 'table';
}

const SAME_NAMES: Readonly<Record<string, string>> = {
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  text: 'VARCHAR',
  boolean: 'BOOLEAN',
  date: 'DATE',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE',
  'double precision': 'DOUBLE PRECISION',
  real: 'REAL',
  numeric: 'DECIMAL',
};

/**
 * A Postgres type name (as `format_type` prints it) in the DuckDB warehouse's spelling, when
 * Postgres reads that spelling as the same type in DDL; other types keep Postgres's name.
 *
 * @example
 * duckdbTypeName('numeric(10,2)') // 'DECIMAL(10,2)'
 */
export function duckdbTypeName(type: string): string {
  const same = SAME_NAMES[type];
  if (same !== undefined) return same;
  if (type.startsWith('numeric(')) return `DECIMAL${type.slice('numeric'.length)}`;
  if (type.startsWith('character varying')) return 'VARCHAR';
  return type;
}

/**
 * The views that depend on a relation (`$1` schema, `$2` name), directly or through other views,
 * in an order they can be created again (`s`, `n`, `definition`): Postgres refuses to drop a table
 * that views read, so a replaced asset drops them with it and creates them again on the new one.
 */
export const DEPENDENT_VIEWS_SQL = `WITH RECURSIVE dependents AS (
  SELECT c.oid, 0 AS depth FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2
  UNION ALL
  SELECT r.ev_class, d.depth + 1 FROM dependents AS d
  JOIN pg_depend AS dep ON dep.refobjid = d.oid AND dep.classid = 'pg_rewrite'::regclass AND dep.deptype = 'n'
  JOIN pg_rewrite AS r ON r.oid = dep.objid
  WHERE r.ev_class <> d.oid AND d.depth < 32
)
SELECT n.nspname AS s, v.relname AS n, pg_get_viewdef(v.oid) AS definition
FROM dependents AS d JOIN pg_class AS v ON v.oid = d.oid JOIN pg_namespace AS n ON n.oid = v.relnamespace
WHERE d.depth > 0 AND v.relkind = 'v'
GROUP BY 1, 2, 3 ORDER BY max(d.depth), 1, 2`;
