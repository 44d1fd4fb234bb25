/**
 * Freshness policies as declarations: the `-- freshness:` header of a SQL asset and the
 * `freshnessPolicy` option of `asset()`, and the definition errors bad lags give.
 */
import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { sourceAsset } from '../../core/model/definitions/source-asset.ts';
import { parseSqlAssetFile, sqlAssetDefinition } from '../../core/model/definitions/sql-asset-file.ts';
import { DefinitionError } from '../../core/model/errors.ts';

const HOUR = 3_600_000;

describe('the freshness header of a SQL asset', () => {
  it('freezes the policy into the spec', () => {
    const parsed = parseSqlAssetFile('marts/sales.sql', '-- freshness: 26h\nselect 1 as x', 'defs/marts/sales.sql');
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
    const { spec } = sqlAssetDefinition(parsed, []);
    expect(spec.freshnessPolicy).toEqual({ maxLagMs: 26 * HOUR });
    expect(Object.isFrozen(spec.freshnessPolicy)).toBe(true);
  });

  it('leaves assets without the header without a policy', () => {
    const parsed = parseSqlAssetFile('marts/sales.sql', 'select 1 as x');
    if (!parsed.ok) throw new Error('unexpected errors');
    expect(sqlAssetDefinition(parsed, []).spec.freshnessPolicy).toBeUndefined();
  });

  it.each([
    ['-- freshness: 26x\nselect 1', /header field "freshness": "26x" is not a duration/],
    ['-- freshness: -3h\nselect 1', /header field "freshness": "-3h" is not a duration/],
    ['-- freshness: 0h\nselect 1', /header field "freshness": maxLag must be more than 0, not "0h"/],
    ['-- freshness:\nselect 1', /header field "freshness": "" is not a duration/],
    ['-- freshness: 1h\n-- freshness: 2h\nselect 1', /header field "freshness" is given more than once/],
    ['-- freshnes: 2h\nselect 1', /unknown header field "freshnes" \(did you mean "freshness"\?\)/],
  ])('reports %j as a definition error naming the asset and file', (text, message) => {
    const parsed = parseSqlAssetFile('marts/sales.sql', text, 'defs/marts/sales.sql');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.message).toMatch(message);
    expect(parsed.errors[0]?.context).toEqual({ assetKey: 'marts/sales', file: 'defs/marts/sales.sql' });
  });
});

describe('asset({ freshnessPolicy })', () => {
  const materialize = () => undefined;

  it('accepts a duration as text or milliseconds', () => {
    expect(asset({ key: 'marts/sales', freshnessPolicy: { maxLag: '90m' }, materialize }).spec.freshnessPolicy).toEqual({ maxLagMs: 90 * 60_000 });
    expect(asset({ key: 'marts/sales', freshnessPolicy: { maxLag: 5_000 }, materialize }).spec.freshnessPolicy).toEqual({ maxLagMs: 5_000 });
  });

  it.each([
    [{ maxLag: '26x' }, /freshnessPolicy\.maxLag: "26x" is not a duration/],
    [{ maxLag: -1 }, /freshnessPolicy\.maxLag: "-1" is not a duration/],
    [{ maxLag: 0 }, /freshnessPolicy\.maxLag: maxLag must be more than 0/],
    [{ maxLag: '1h', grace: '1h' }, /freshnessPolicy: Unrecognized key/],
  ])('rejects %j with a definition error naming the asset', (policy, message) => {
    let error: unknown;
    try {
      asset({ key: 'marts/sales', freshnessPolicy: policy as { maxLag: string }, materialize });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).message).toMatch(message);
    expect((error as DefinitionError).context).toEqual({ assetKey: 'marts/sales' });
  });
});

describe('sourceAsset({ freshnessPolicy })', () => {
  it('is refused: a source is observed, never materialized', () => {
    const options = { key: 'landing/orders', freshnessPolicy: { maxLag: '1h' }, observe: () => [] };
    expect(() => sourceAsset(options as Parameters<typeof sourceAsset>[0])).toThrow(DefinitionError);
    expect(() => sourceAsset(options as Parameters<typeof sourceAsset>[0])).toThrow(/a source asset takes no freshnessPolicy/);
  });
});
