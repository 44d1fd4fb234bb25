/**
 * Schema history during a run: after a step writes, its table's columns and types are read once
 * in the step's transaction and compared with the asset's previous materialization (the newest
 * recorded, any partition). The step records the schema in its materializations' metadata and,
 * when it changed, a `schema_change` event in the same commit.
 */
import type { StepSession } from '../../../resources/warehouse.ts';
import type { Storage } from '../../../storage/storage.ts';
import { isEmptyDiff, recordedSchema, schemaDiff, schemaOfColumns, type SchemaDiff, type TableSchema } from '../../model/schema/table-schema.ts';

/** What a step wrote: its table's schema, the previous one, and the change when there is one. */
export interface StepSchema {
  readonly current: TableSchema;
  /** The previous materialization's schema; absent on the first one (or one recorded without a schema). */
  readonly previous?: TableSchema;
  /** Set when `previous` is known and differs from `current`. */
  readonly change?: SchemaDiff;
}

/**
 * The schemas one run has seen, per asset: the stored one is read on an asset's first step, then
 * each successful step's schema is remembered (one step per asset runs at a time).
 */
export class RunSchemas {
  readonly #storage: Storage;
  readonly #latest = new Map<string, TableSchema | undefined>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /**
   * The schema a step just wrote, read in its session, with the previous one; `undefined` when
   * the step used no warehouse session or left no table or view behind (a TypeScript asset that
   * writes files). `tableWritten`: the step always writes the asset's table or view (not a
   * TypeScript asset).
   */
  async afterWrite(key: string, session: StepSession, tableWritten: boolean): Promise<StepSchema | undefined> {
    if (!session.used) return undefined;
    // DuckDB's DESCRIBE of the one table costs half its catalog scan, but fails on a missing
    // table: only a step that surely wrote one (SQL, seeds) asks it.
    const columns = tableWritten && session.dialect === 'duckdb' ? await session.relationColumns(session.tableOf(key)) : await session.tableColumns(key);
    if (columns.size === 0) return undefined;
    const current = schemaOfColumns(columns);
    const previous = await this.#previous(key);
    if (previous === undefined) return { current };
    const diff = schemaDiff(previous, current);
    return { current, previous, ...(isEmptyDiff(diff) ? {} : { change: diff }) };
  }

  /** The latest schema of `key` this run has read or written, if any (no I/O). */
  known(key: string): TableSchema | undefined {
    return this.#latest.get(key);
  }

  /** Remembers the schema of a step whose commit was recorded: the next step of the asset compares with it. */
  recorded(key: string, schema: StepSchema | undefined): void {
    if (schema !== undefined) this.#latest.set(key, schema.current);
  }

  async #previous(key: string): Promise<TableSchema | undefined> {
    if (!this.#latest.has(key)) {
      const [newest] = await this.#storage.materializationHistory(key, { limit: 1 });
      this.#latest.set(key, recordedSchema(newest?.metadata));
    }
    return this.#latest.get(key);
  }
}

/** The metadata a step's materializations add: `schema`, and `schemaChange` when it changed. */
export function schemaMetadata(schema: StepSchema | undefined): Record<string, unknown> {
  if (schema === undefined) return {};
  return { schema: schema.current, ...(schema.change === undefined ? {} : { schemaChange: schema.change }) };
}

/**
 * For checks run on their own (`assets checks`): the table's schema as it is, and the schema of
 * the materialization before the latest run's (the latest one wrote the table as it is).
 */
export async function committedSchemas(storage: Storage, session: Pick<StepSession, 'tableColumns'>, key: string): Promise<StepSchema | undefined> {
  const columns = await session.tableColumns(key);
  if (columns.size === 0) return undefined;
  const previous = recordedSchema((await storage.materializationsByRun(key, { limit: 2 }))[1]?.metadata);
  return { current: schemaOfColumns(columns), ...(previous === undefined ? {} : { previous }) };
}
