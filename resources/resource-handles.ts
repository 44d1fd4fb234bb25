/**
 * `ctx.resources`: the run's resources as assets see them, bound to the run's signal (a canceled
 * run cancels their queries) and, in a step, to the step's DuckDB session.
 */
import type { PostgresHandle, PostgresStepHandle, WarehouseSession } from '../core/model/definitions/asset-context.ts';
import { StrataError } from '../core/model/errors.ts';
import type { SqlDialect } from './incremental-writes.ts';
import { extractInto } from './postgres-extract.ts';
import type { ResourceSet } from './resource-set.ts';

/** The step a handle extracts into. */
export interface StepTarget {
  readonly session: WarehouseSession;
  /** The asset's own quoted table. */
  readonly table: string;
  readonly partitioned: boolean;
  /** The warehouse's dialect: `extract` loads into DuckDB only. */
  readonly dialect?: SqlDialect;
}

/** `ctx.resources` of `observe(ctx)`. */
export function observeHandles(resources: ResourceSet, signal: AbortSignal): Readonly<Record<string, PostgresHandle>> {
  return handles(resources, (name) => {
    const resource = resources.get(name);
    return { query: (sql, params) => resource.query(sql, params, signal) };
  });
}

/** `ctx.resources` of `materialize(ctx)`. */
export function stepHandles(resources: ResourceSet, signal: AbortSignal, step: StepTarget): Readonly<Record<string, PostgresStepHandle>> {
  return handles(resources, (name) => {
    const resource = resources.get(name);
    return {
      query: (sql, params) => resource.query(sql, params, signal),
      extract: (select, options = {}) =>
        step.dialect === 'postgres'
          ? Promise.reject(
              new StrataError(
                'extract_needs_duckdb',
                `ctx.resources.${name}.extract loads Postgres rows into the DuckDB warehouse, but this project's warehouse is Postgres: read the rows with ctx.resources.${name}.query, or query the tables from the warehouse itself when they live in the same database`,
              ),
            )
          : extractInto(resource, select, {
              session: step.session,
              ownTable: step.table,
              partitioned: step.partitioned,
              signal,
              ...(options.into === undefined ? {} : { into: options.into }),
              ...(options.append === undefined ? {} : { append: options.append }),
            }),
    };
  });
}

/** A read-only record whose properties are the configured resources; reading another name throws. */
function handles<T extends object>(resources: ResourceSet, make: (name: string) => T): Readonly<Record<string, T>> {
  const made = new Map<string, T>();
  return new Proxy({} as Record<string, T>, {
    get(_target, name) {
      if (typeof name !== 'string') return undefined;
      // Promise-like probes (`await ctx.resources`), inspection and Object's own names must not throw.
      if (!resources.has(name)) {
        if (name === 'then' || name === 'toJSON') return undefined;
        if (name in Object.prototype) return (Object.prototype as Record<string, unknown>)[name];
      }
      let handle = made.get(name);
      if (handle === undefined) made.set(name, (handle = make(name)));
      return handle;
    },
    has: (_target, name) => typeof name === 'string' && resources.has(name),
    ownKeys: () => resources.names(),
    getOwnPropertyDescriptor: (_target, name) =>
      typeof name === 'string' && resources.has(name) ? { enumerable: true, configurable: true, value: undefined } : undefined,
    set: () => false,
  });
}
