/**
 * Schema history: the columns and types of an asset's table as one materialization wrote them
 * (recorded in its metadata as `schema`), and what changed between two of them. A change is
 * columns added, removed or retyped; a column moved to another place is not a change.
 */

/** One column of a table, its type spelled as the warehouse reports it (`INTEGER`, `DECIMAL(10,2)`). */
export interface SchemaColumn {
  readonly name: string;
  readonly type: string;
}

/** A table's columns in order. */
export type TableSchema = readonly SchemaColumn[];

/** What changed from one schema to the next. */
export interface SchemaDiff {
  /** Columns of the new schema the old one lacks, in the new schema's order. */
  readonly added: readonly SchemaColumn[];
  /** Columns of the old schema the new one lacks, in the old schema's order. */
  readonly removed: readonly SchemaColumn[];
  /** Columns of both whose type changed, in the new schema's order. */
  readonly retyped: readonly { readonly name: string; readonly from: string; readonly to: string }[];
}

/**
 * What changed from `before` to `after` (columns matched by name, types compared exactly).
 *
 * @example
 * schemaDiff([{ name: 'id', type: 'INTEGER' }], [{ name: 'id', type: 'BIGINT' }]) // { added: [], removed: [], retyped: [{ name: 'id', from: 'INTEGER', to: 'BIGINT' }] }
 */
export function schemaDiff(before: TableSchema, after: TableSchema): SchemaDiff {
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Set(after.map((c) => c.name));
  const added = after.filter((c) => !old.has(c.name)).map(({ name, type }) => ({ name, type }));
  const removed = before.filter((c) => !now.has(c.name)).map(({ name, type }) => ({ name, type }));
  const retyped = after.flatMap((c) => {
    const from = old.get(c.name);
    return from === undefined || from === c.type ? [] : [{ name: c.name, from, to: c.type }];
  });
  return { added, removed, retyped };
}

/** True when a diff says nothing changed. */
export function isEmptyDiff(diff: SchemaDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.retyped.length === 0;
}

/**
 * The schema `diff` turns `schema` into: removed columns dropped, retyped ones given their new
 * type, added ones appended (`applySchemaDiff(a, schemaDiff(a, b))` has b's columns and types).
 */
export function applySchemaDiff(schema: TableSchema, diff: SchemaDiff): TableSchema {
  const removed = new Set(diff.removed.map((c) => c.name));
  const retyped = new Map(diff.retyped.map((c) => [c.name, c.to]));
  return [...schema.filter((c) => !removed.has(c.name)).map((c) => ({ name: c.name, type: retyped.get(c.name) ?? c.type })), ...diff.added];
}

/** `warn` when columns were removed or retyped (readers may break), `info` when only added. */
export function schemaChangeLevel(diff: SchemaDiff): 'info' | 'warn' {
  return diff.removed.length > 0 || diff.retyped.length > 0 ? 'warn' : 'info';
}

/**
 * The change in one line: `+discount_pct DOUBLE, -legacy_code, amount DECIMAL(10,2) → DOUBLE`.
 *
 * @example
 * schemaChangeText({ added: [{ name: 'x', type: 'DOUBLE' }], removed: [], retyped: [] }) // '+x DOUBLE'
 */
export function schemaChangeText(diff: SchemaDiff): string {
  return [
    ...diff.added.map((c) => `+${c.name} ${c.type}`),
    ...diff.removed.map((c) => `-${c.name}`),
    ...diff.retyped.map((c) => `${c.name} ${c.from} → ${c.to}`),
  ].join(', ');
}

/** The `schema` a materialization's metadata records, if it has a well-formed one. */
export function recordedSchema(metadata: Readonly<Record<string, unknown>> | undefined): TableSchema | undefined {
  const schema = metadata?.schema;
  if (!Array.isArray(schema)) return undefined;
  const columns = schema.filter((c): c is SchemaColumn => typeof c?.name === 'string' && typeof c?.type === 'string');
  return columns.length === schema.length ? columns.map(({ name, type }) => ({ name, type })) : undefined;
}

/** The `schemaChange` a materialization's metadata records (the diff from the one before), if any. */
export function recordedSchemaChange(metadata: Readonly<Record<string, unknown>> | undefined): SchemaDiff | undefined {
  const change = metadata?.schemaChange as Partial<SchemaDiff> | undefined;
  if (change === undefined || change === null || typeof change !== 'object') return undefined;
  if (!Array.isArray(change.added) || !Array.isArray(change.removed) || !Array.isArray(change.retyped)) return undefined;
  return { added: change.added, removed: change.removed, retyped: change.retyped };
}

/** A schema from a warehouse's column map (name → type, in order). */
export function schemaOfColumns(columns: ReadonlyMap<string, string>): TableSchema {
  return [...columns].map(([name, type]) => ({ name, type }));
}
