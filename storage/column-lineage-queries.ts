/**
 * `Storage.recordColumnLineage` and `Storage.columnLineage` on SQLite and Postgres (one kysely
 * query each; the table is the same on both, see migration 0009).
 */
import type { Kysely } from 'kysely';
import type { AssetColumnLineage } from '../core/model/lineage/column-lineage.ts';
import type { Database } from './schema.ts';

/** Records (replacing) the column lineage of each asset of `lineage` in `definitionVersion`, in one transaction. */
export async function recordColumnLineage(
  db: Kysely<Database>,
  definitionVersion: string,
  lineage: readonly AssetColumnLineage[],
  recordedAt: number,
): Promise<void> {
  if (lineage.length === 0) return;
  const rows = lineage.map((l) => ({ definition_version: definitionVersion, asset_key: l.key, lineage: encodeColumnLineage(l), recorded_at: recordedAt }));
  await db.transaction().execute(async (trx) => {
    // A few hundred rows at a time: Postgres binds at most 65,535 parameters per statement.
    for (let at = 0; at < rows.length; at += 500) {
      await trx
        .insertInto('column_lineage')
        .values(rows.slice(at, at + 500))
        .onConflict((oc) =>
          oc
            .columns(['definition_version', 'asset_key'])
            .doUpdateSet((eb) => ({ lineage: eb.ref('excluded.lineage'), recorded_at: eb.ref('excluded.recorded_at') })),
        )
        .execute();
    }
  });
}

/** The column lineage recorded for `definitionVersion`, by asset key. */
export async function columnLineage(db: Kysely<Database>, definitionVersion: string): Promise<AssetColumnLineage[]> {
  const rows = await db
    .selectFrom('column_lineage')
    .select(['asset_key', 'lineage'])
    .where('definition_version', '=', definitionVersion)
    .orderBy('asset_key')
    .execute();
  return rows.map((r) => decodeColumnLineage(r.asset_key, r.lineage));
}

/** Whether `definitionVersion` has any column lineage (reads one row at most, through the primary key). */
export async function hasColumnLineage(db: Kysely<Database>, definitionVersion: string): Promise<boolean> {
  const row = await db.selectFrom('column_lineage').select('asset_key').where('definition_version', '=', definitionVersion).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** The stored JSON of one asset's column lineage (its key is the row's). */
export function encodeColumnLineage({ key: _key, ...rest }: AssetColumnLineage): string {
  return JSON.stringify(rest);
}

/** One asset's column lineage from its stored JSON. */
export function decodeColumnLineage(key: string, json: string): AssetColumnLineage {
  return { key, ...(JSON.parse(json) as Omit<AssetColumnLineage, 'key'>) };
}
