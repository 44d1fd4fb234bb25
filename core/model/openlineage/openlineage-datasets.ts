/**
 * How Strata's assets are named as OpenLineage datasets, and how its column lineage reads as the
 * `columnLineage` facet. A warehouse table is in the warehouse's namespace
 * (`duckdb://<absolute file>` or `postgres://host:port/database`, never a user or password) and
 * named `schema.table`; a source asset, whose data Strata observes but does not hold, is in the
 * job namespace and named by its key.
 */
import { keyToTable } from '../definitions/asset-key.ts';
import type { AssetColumnLineage } from '../lineage/column-lineage.ts';
import type { ProjectConfig } from '../config/project-config.ts';
import type { ColumnLineageInput, DatasetRef, OutputDatasetSpec } from './openlineage-run-event.ts';

/** The dataset namespace of the project's warehouse. */
export function warehouseNamespace(config: Pick<ProjectConfig, 'warehouseFile' | 'warehouseUrl'>): string {
  if (config.warehouseUrl === undefined) return `duckdb://${config.warehouseFile}`;
  try {
    const url = new URL(config.warehouseUrl);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    return `postgres://${url.hostname}:${url.port || '5432'}/${database}`;
  } catch {
    return 'postgres://unknown';
  }
}

/** Names datasets for one project: its assets' tables, and its sources in the job namespace. */
export class DatasetNames {
  readonly #warehouse: string;
  readonly #jobNamespace: string;
  readonly #isSource: (key: string) => boolean;
  /** Names given so far: every event names its asset's inputs and columns' sources again. */
  readonly #named = new Map<string, DatasetRef>();

  constructor(warehouse: string, jobNamespace: string, isSource: (key: string) => boolean) {
    this.#warehouse = warehouse;
    this.#jobNamespace = jobNamespace;
    this.#isSource = isSource;
  }

  /** The dataset of an asset. */
  of(key: string): DatasetRef {
    let named = this.#named.get(key);
    if (named === undefined) {
      named = this.#isSource(key) ? { namespace: this.#jobNamespace, name: key } : { namespace: this.#warehouse, name: tableName(key) };
      this.#named.set(key, named);
    }
    return named;
  }
}

/** `schema.table` of an asset's warehouse table. */
function tableName(key: string): string {
  const { schema, table } = keyToTable(key);
  return `${schema}.${table}`;
}

const INDIRECT_SUBTYPES: Readonly<Record<string, string>> = { join: 'JOIN', filter: 'FILTER', group_by: 'GROUP_BY', sort: 'SORT', window: 'WINDOW' };

/**
 * The `columnLineage` facet's content of an asset's traced lineage: each output column's direct
 * sources (IDENTITY, TRANSFORMATION, AGGREGATION) and, for the whole dataset, the columns used
 * only to join, filter, group, sort or partition windows (INDIRECT). Columns that could not be
 * traced keep the sources that are known; `undefined` when not even the column list is.
 */
export function columnLineageOf(lineage: AssetColumnLineage, names: DatasetNames): OutputDatasetSpec['columnLineage'] {
  if (lineage.columns === null) return undefined;
  const input = (asset: string, column: string, type: ColumnLineageInput['type'], subtype: string): ColumnLineageInput => ({
    ...names.of(asset),
    field: column,
    type,
    subtype,
  });
  const fields = new Map<string, readonly ColumnLineageInput[]>();
  for (const column of lineage.columns) {
    fields.set(
      column.name,
      column.sources.map((s) => input(s.asset, s.column, 'DIRECT', s.kind.toUpperCase())),
    );
  }
  const dataset = lineage.indirect.map((s) => input(s.asset, s.column, 'INDIRECT', INDIRECT_SUBTYPES[s.kind] ?? s.kind.toUpperCase()));
  return { fields, dataset };
}
