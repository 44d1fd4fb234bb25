import { readFileSync } from 'node:fs';
import { StrataError } from '../../model/errors.ts';
import { contentHashOf, seedDataVersion, type SeedCompute } from '../../model/definitions/seed-asset.ts';
import type { AssetDefinition } from '../../model/definitions/asset-spec.ts';
import type { StepSession } from '../../../resources/warehouse.ts';
import type { MaterializeResult } from '../../model/definitions/asset-context.ts';

/**
 * Writes a seed's table from its CSV file (the warehouse reads it: DuckDB with `read_csv`). The data version is the
 * hash of the content read now (with the column types): had the file changed since the project
 * was loaded, the recorded code version is the older one, so the seed shows stale again and is
 * rebuilt, never fresh with the wrong data. An empty file, or one DuckDB cannot read as CSV,
 * fails the step with a `seed_invalid` error naming the asset and the file (and the warehouse's message).
 */
export async function loadSeed(definition: AssetDefinition, compute: SeedCompute, session: StepSession): Promise<MaterializeResult> {
  const { key } = definition.spec;
  const file = definition.file ?? compute.path;
  const fail = (message: string, cause?: unknown) => new StrataError('seed_invalid', `seed file ${file} ${message}`, { assetKey: key, file }, false, { cause });
  let content: Buffer;
  try {
    content = readFileSync(compute.path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new StrataError(
      missing ? 'file_missing' : 'seed_invalid',
      `${key} reads ${file}, which ${missing ? 'does not exist' : `cannot be read: ${(error as Error).message}`} (${compute.path})`,
      { assetKey: key, file: compute.path },
      false,
      { cause: error },
    );
  }
  if (content.toString('utf8').trim() === '') throw fail('is empty: a seed needs a header row naming its columns');
  let rowCount: number;
  try {
    rowCount = await session.replaceTableFromCsv(compute.path, compute.columnTypes);
  } catch (error) {
    throw fail(`cannot be loaded: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const sha256 = contentHashOf(content);
  return { rowCount, dataVersion: seedDataVersion(sha256, compute.columnTypes), metadata: { file, sha256 } };
}
