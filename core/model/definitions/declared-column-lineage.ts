/**
 * Column lineage a TypeScript asset declares (`columnLineage` in `asset({...})`): its output
 * columns, in order, each with the upstream columns it comes from. Strata cannot read a function,
 * so without a declaration a TypeScript asset's columns are unknown.
 */
import { z } from 'zod';
import type { DirectKind, DirectSource } from '../lineage/column-lineage.ts';
import { keyProblem } from './asset-key.ts';

/** One upstream column: `'raw/orders.order_id'` (identity), or `{ from: 'raw/orders.amount', kind: 'aggregation' }`. */
export type DeclaredColumnSource = string | { readonly from: string; readonly kind?: DirectKind };

/** Output column → where it comes from (`[]`: from no upstream column, e.g. a load timestamp). */
export type ColumnLineageOption = Readonly<Record<string, readonly DeclaredColumnSource[]>>;

/** The validated declaration: output columns in order with their sources. */
export type DeclaredColumnLineage = readonly { readonly name: string; readonly sources: readonly DirectSource[] }[];

const reference = z.string().superRefine((text, ctx) => {
  const parsed = splitReference(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const sourceSchema = z.union([reference, z.object({ from: reference, kind: z.enum(['identity', 'transformation', 'aggregation']).optional() }).strict()]);

/** The zod schema of the `columnLineage` option. */
export const columnLineageSchema = z.record(z.string().min(1, 'a column name is empty'), z.array(sourceSchema));

/**
 * Turns a validated `columnLineage` option into the declaration, or the problems with it: every
 * upstream asset it names must be one of `deps`.
 *
 * @example
 * declaredColumnLineage({ id: ['raw/orders.order_id'] }, ['raw/orders']);
 * // { ok: true, columns: [{ name: 'id', sources: [{ asset: 'raw/orders', column: 'order_id', kind: 'identity' }] }] }
 */
export function declaredColumnLineage(
  option: z.infer<typeof columnLineageSchema>,
  deps: readonly string[],
): { ok: true; columns: DeclaredColumnLineage } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const columns = Object.entries(option).map(([name, sources]) => ({
    name,
    sources: Object.freeze(
      sources.map((source) => {
        const text = typeof source === 'string' ? source : source.from;
        const { asset, column } = splitReference(text) as { asset: string; column: string };
        if (!deps.includes(asset)) problems.push(`columnLineage of "${name}" names "${text}", but "${asset}" is not a dependency (add it to deps)`);
        return Object.freeze({ asset, column, kind: typeof source === 'string' ? 'identity' : (source.kind ?? 'identity') });
      }),
    ),
  }));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, columns: Object.freeze(columns.map((c) => Object.freeze(c))) };
}

/** `'raw/orders.order_id'` → asset and column, or what is wrong with it. */
function splitReference(text: string): { asset: string; column: string } | string {
  const slash = text.lastIndexOf('/');
  const dot = text.indexOf('.', slash + 1);
  if (slash < 0 || dot < 0 || dot === text.length - 1) return `"${text}" must name an upstream column as "layer/asset.column"`;
  const asset = text.slice(0, dot);
  const problem = keyProblem(asset);
  return problem === undefined ? { asset, column: text.slice(dot + 1) } : problem;
}
