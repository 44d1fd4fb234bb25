/**
 * Replacing an asset that views read, on Postgres: Postgres refuses to drop a table or view that
 * other views depend on, so the asset is dropped with them (CASCADE) and they are created again,
 * from their definitions read before, on the new table, all in the step's transaction. A view
 * that no longer fits the new columns fails the step, naming it; nothing is published then.
 */
import type { Row, SqlParam } from '../core/model/definitions/asset-context.ts';
import { keyToTable, qualifiedTableName, quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { StrataError } from '../core/model/errors.ts';
import { DEPENDENT_VIEWS_SQL } from './postgres-catalog.ts';
import type { RelationKind } from './snapshot-writes.ts';

/** A view that reads an asset (see {@link DEPENDENT_VIEWS_SQL}): schema, name and definition. */
export type DependentView = { readonly s: string; readonly n: string; readonly definition: string };

/** What these statements need of the step session. */
interface DroppingSession {
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  relationKind(key: string): Promise<RelationKind>;
}

/** Drops the asset's table or view, if there is one, with the views that read it; returns those, to create again. */
export async function dropWithDependents(session: DroppingSession, key: string): Promise<DependentView[]> {
  const kind = await session.relationKind(key);
  if (kind === 'none') return [];
  const { schema, table } = keyToTable(key);
  const dependents = await session.all<DependentView>(DEPENDENT_VIEWS_SQL, [schema, table]);
  await session.run(`DROP ${kind === 'view' ? 'VIEW' : 'TABLE'} ${qualifiedTableName(key)}${dependents.length > 0 ? ' CASCADE' : ''}`);
  return dependents;
}

/** Creates again the views {@link dropWithDependents} dropped; one that no longer fits fails the step, naming it. */
export async function restoreViews(session: DroppingSession, key: string, views: readonly DependentView[]): Promise<void> {
  for (const view of views) {
    try {
      await session.run(`CREATE VIEW ${quoteIdentifier(view.s)}.${quoteIdentifier(view.n)} AS ${view.definition}`);
    } catch (error) {
      throw new StrataError(
        'dependent_view_broken',
        `the view ${view.s}.${view.n} reads ${key} and no longer works on its new columns (${error instanceof Error ? error.message : String(error)}): change or drop that view`,
        { assetKey: key },
        true,
        { cause: error },
      );
    }
  }
}
