import { keyToTable, tableToKey } from '../core/model/definitions/asset-key.ts';
import type { MergeOptions, MergeResult } from '../core/model/definitions/incremental-config.ts';
import { StrataError } from '../core/model/errors.ts';
import type { Row, SqlParam, WarehouseSession } from '../core/model/definitions/asset-context.ts';
import type { CatalogEntry, StepSession } from './warehouse.ts';

/** What the guard needs of the step's session: what `ctx.warehouse` offers, and the catalog. */
export type GuardedSession = WarehouseSession & Pick<StepSession, 'catalog'>;

/**
 * A TypeScript asset's `ctx.warehouse`: the step's session, plus a check that the step left
 * every other asset's table and view alone (as the warehouse's {@link StepSession.catalog} shows them). Before the step's first own statement (`run`, `all`,
 * or a multi-statement `replaceTable`) it reads the catalog inside the step's transaction;
 * {@link verify} reads it again before the step commits and fails when another asset's table was
 * dropped, renamed, replaced, altered or created. Whatever SQL did it, the catalog shows it. A
 * step that only calls `replaceTable(select)` or `replacePartitions(select)` costs nothing.
 *
 * @example
 * const warehouse = new TableOwnershipGuard(session, 'marts/sales', (key) => graph.has(key));
 * await definition.materialize({ ...ctx, warehouse });
 * await warehouse.verify(); // throws table_not_owned, then the executor rolls back
 */
export class TableOwnershipGuard implements WarehouseSession {
  readonly #session: GuardedSession;
  readonly #key: string;
  readonly #isAsset: (key: string) => boolean;
  #before: Promise<Map<string, CatalogEntry>> | undefined;

  constructor(session: GuardedSession, key: string, isAsset: (key: string) => boolean) {
    this.#session = session;
    this.#key = key;
    this.#isAsset = isAsset;
  }

  async run(sql: string, params?: readonly SqlParam[]): Promise<void> {
    await this.#snapshot();
    return this.#session.run(sql, params);
  }

  async all<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    await this.#snapshot();
    return this.#session.all<T>(sql, params);
  }

  async replaceTable(select: string, params?: readonly SqlParam[]): Promise<number> {
    if (mayHoldSeveralStatements(select)) await this.#snapshot();
    return this.#session.replaceTable(select, params);
  }

  async replacePartitions(select: string, params?: readonly SqlParam[]): Promise<number> {
    if (mayHoldSeveralStatements(select)) await this.#snapshot();
    return this.#session.replacePartitions(select, params);
  }

  async merge(select: string, options?: MergeOptions): Promise<MergeResult> {
    if (mayHoldSeveralStatements(select)) await this.#snapshot();
    return this.#session.merge(select, options);
  }

  tableOf(key: string): string {
    return this.#session.tableOf(key);
  }

  /** Throws `table_not_owned`, naming each table and its asset, when the step touched another asset's table or view. */
  async verify(): Promise<void> {
    if (!this.#before) return;
    const before = await this.#before;
    const after = await this.#otherAssetObjects();
    const changes: string[] = [];
    for (const [key, was] of before) {
      const now = after.get(key);
      if (!now) changes.push(`dropped ${describe(key, was)}`);
      else if (now.identity !== was.identity || now.kind !== was.kind) changes.push(`replaced ${describe(key, was)}`);
      else if (now.shape !== was.shape) changes.push(`altered ${describe(key, was)}`);
    }
    for (const [key, now] of after) if (!before.has(key)) changes.push(`created ${describe(key, now)}`);
    if (changes.length === 0) return;
    const own = keyToTable(this.#key);
    throw new StrataError('table_not_owned', `${this.#key} may only write its own table ${own.schema}.${own.table}: it ${changes.join('; ')} (rolled back)`, {
      assetKey: this.#key,
    });
  }

  /**
   * The catalog at the step's start. Read before the first statement of the step's own SQL: the
   * engine's writes before it touch only the step's table, and the transaction's snapshot keeps
   * every other object as it was when the step began.
   */
  #snapshot(): Promise<Map<string, CatalogEntry>> {
    this.#before ??= this.#otherAssetObjects();
    return this.#before;
  }

  /** Tables and views of assets other than this step's, by asset key. */
  async #otherAssetObjects(): Promise<Map<string, CatalogEntry>> {
    const objects = new Map<string, CatalogEntry>();
    for (const entry of await this.#session.catalog()) {
      const key = tableToKey(entry.schema, entry.name);
      if (key !== this.#key && this.#isAsset(key)) objects.set(key, entry);
    }
    return objects;
  }
}

function describe(key: string, entry: CatalogEntry): string {
  return `${entry.schema}.${entry.name}, the ${entry.kind} of asset ${key}`;
}

/**
 * False when `select` is surely one statement (no `;` but a trailing one): written by
 * replaceTable or replacePartitions, it then changes nothing but the step's table, and the
 * catalog need not be read. A `;` inside a string literal only costs a catalog read.
 */
function mayHoldSeveralStatements(select: string): boolean {
  return select.replace(/[\s;]+$/, '').includes(';');
}
