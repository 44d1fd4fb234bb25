/**
 * OpenLineage settings from strata.json and the environment (as OpenLineage clients read it),
 * the derived run ids, and the dataset names of the warehouse (never a password).
 */
import { describe, expect, it } from 'vitest';
import { openLineageSchema, resolveOpenLineage } from '../../core/model/config/openlineage-settings.ts';
import { ConfigError } from '../../core/model/errors.ts';
import { nameUuid, stepRunUuid, strataRunUuid } from '../../core/model/openlineage/openlineage-ids.ts';
import { warehouseNamespace } from '../../core/model/openlineage/openlineage-datasets.ts';

const defaults = { dir: '/projects/shop', projectName: 'shop', configFile: '/projects/shop/strata.json' };
const resolve = (raw: unknown, env: Record<string, string> = {}) => resolveOpenLineage(openLineageSchema.parse(raw), defaults, env);

describe('OpenLineage settings', () => {
  it('reads one transport from strata.json, a relative file against the project, the namespace defaulting to the project name', () => {
    expect(resolve({ url: 'https://lineage.example/' })).toEqual({ transport: { kind: 'http', url: 'https://lineage.example' }, namespace: 'shop' });
    expect(resolve({ file: 'lineage/events.jsonl', namespace: 'analytics' })).toEqual({
      transport: { kind: 'file', file: '/projects/shop/lineage/events.jsonl' },
      namespace: 'analytics',
    });
    expect(resolve({ console: true })).toEqual({ transport: { kind: 'console' }, namespace: 'shop' });
    expect(resolve({ namespace: 'analytics' })).toBeUndefined();
    expect(resolveOpenLineage(undefined, defaults, {})).toBeUndefined();
  });

  it('lets OPENLINEAGE_URL, OPENLINEAGE_API_KEY and OPENLINEAGE_NAMESPACE override the file, and OPENLINEAGE_DISABLED turn it off', () => {
    const env = { OPENLINEAGE_URL: 'http://localhost:5000', OPENLINEAGE_API_KEY: 'k', OPENLINEAGE_NAMESPACE: 'prod' };
    expect(resolve({ file: 'events.jsonl', namespace: 'analytics' }, env)).toEqual({
      transport: { kind: 'http', url: 'http://localhost:5000', apiKey: 'k' },
      namespace: 'prod',
    });
    expect(resolveOpenLineage(undefined, defaults, { OPENLINEAGE_URL: 'http://localhost:5000' })?.namespace).toBe('shop');
    expect(resolve({ console: true }, { OPENLINEAGE_DISABLED: 'true' })).toBeUndefined();
  });

  it('refuses a URL that is not http(s) or holds a password, and two transports, naming the field or variable', () => {
    expect(() => resolveOpenLineage(undefined, defaults, { OPENLINEAGE_URL: 'kafka://broker:9092' })).toThrow(ConfigError);
    expect(() => resolveOpenLineage(undefined, defaults, { OPENLINEAGE_URL: 'not a url' })).toThrow('OPENLINEAGE_URL: "not a url" is not a URL');
    const issues = (raw: unknown) => openLineageSchema.safeParse(raw).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ url: 'ftp://x' })).toEqual(['url: "ftp://x" is not an http(s) URL (OpenLineage events are posted over HTTP)']);
    expect(issues({ url: 'https://me:secret@x' })).toEqual(['url: must not hold a user or password: put the API key in OPENLINEAGE_API_KEY']);
    expect(issues({ url: 'http://x', file: 'a' })).toEqual(['file: only one of url, file and console: url and file are both set']);
    expect(issues({ console: 'yes' })).toEqual(['console: must be true or false']);
  });
});

describe('OpenLineage ids and dataset names', () => {
  it('derives version 5 UUIDs, stable per Strata run and step, and keeps a Strata run id that is a UUID', () => {
    const run = '6f1c2a9e-0b1d-4c8e-9a7f-3e2d1c0b9a88';
    expect(stepRunUuid(run, 'marts/fct@2025-01-01')).toBe(stepRunUuid(run, 'marts/fct@2025-01-01'));
    expect(stepRunUuid(run, 'marts/fct@2025-01-01')).not.toBe(stepRunUuid(run, 'marts/fct@2025-01-02'));
    expect(stepRunUuid(run, 'a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(strataRunUuid(run.toUpperCase())).toBe(run);
    expect(strataRunUuid('not-a-uuid')).toBe(nameUuid('run\u0000not-a-uuid'));
  });

  it('names the warehouse duckdb://<file> or postgres://host:port/db, without credentials', () => {
    expect(warehouseNamespace({ warehouseFile: '/p/.strata/warehouse.duckdb' })).toBe('duckdb:///p/.strata/warehouse.duckdb');
    expect(warehouseNamespace({ warehouseFile: '/x', warehouseUrl: 'postgres://etl:s3cret@db.internal:6543/dwh?sslmode=require' })).toBe(
      'postgres://db.internal:6543/dwh',
    );
    expect(warehouseNamespace({ warehouseFile: '/x', warehouseUrl: 'postgres://etl@db.internal/dwh' })).toBe('postgres://db.internal:5432/dwh');
  });
});
