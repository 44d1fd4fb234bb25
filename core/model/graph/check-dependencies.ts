import { checkReads } from '../definitions/check-spec.ts';
import type { AssetSpec } from '../definitions/asset-spec.ts';
import { compareKeys } from '../collections/key-compare.ts';

/**
 * The assets a spec's checks read that are not also its data dependencies, sorted: its check
 * dependencies (see {@link checkReads}).
 */
export function checkDependencies(spec: AssetSpec): string[] {
  const data = new Set(spec.deps);
  return [...new Set(spec.checks.flatMap((check) => checkReads(check, spec.key)))].filter((key) => !data.has(key)).sort(compareKeys);
}
