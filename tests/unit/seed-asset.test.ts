import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/model/errors.ts';
import { codeVersionOf } from '../../core/model/definitions/code-version.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { csvHeader, seedDataVersion, seedDefinition } from '../../core/model/definitions/seed-asset.ts';
import { seedSelect } from '../../resources/duckdb-seed-csv.ts';

describe('csvHeader', () => {
  it('reads the first record: quotes, doubled quotes, a byte order mark, CRLF and spaces', () => {
    expect(csvHeader('\ufeffcode, "full, name","say ""hi"""\r\nfr,France,x\r\n')).toEqual(['code', 'full, name', 'say "hi"']);
    expect(csvHeader('a,,b\n')).toEqual(['a', '', 'b']);
    expect(csvHeader('')).toEqual([]);
  });
});

describe('seedSelect', () => {
  it('quotes the path, column names and types as string literals', () => {
    expect(seedSelect("/p/o'brien.csv", { "it's": 'VARCHAR' })).toBe(
      "select * from read_csv('/p/o''brien.csv', header = true, delim = ',', types = {'it''s': 'VARCHAR'})",
    );
    expect(seedSelect('/p/a.csv', {})).toBe("select * from read_csv('/p/a.csv', header = true, delim = ',')");
  });
});

describe('seed versions', () => {
  const seed = (contentHash: string, columnTypes: Record<string, string> = {}) =>
    seedDefinition({ name: 'countries', path: '/p/seeds/countries.csv', displayFile: 'seeds/countries.csv', contentHash, columnTypes });

  it('the code version follows the content and the column types, nothing else', () => {
    expect(codeVersionOf(seed('aaa'))).toBe(
      codeVersionOf(seedDefinition({ name: 'countries', path: '/elsewhere/countries.csv', displayFile: 'x.csv', contentHash: 'aaa' })),
    );
    expect(codeVersionOf(seed('aaa'))).not.toBe(codeVersionOf(seed('bbb')));
    expect(codeVersionOf(seed('aaa'))).not.toBe(codeVersionOf(seed('aaa', { population: 'BIGINT' })));
  });

  it('the data version is the content hash, or with column types a hash of both', () => {
    expect(seedDataVersion('abc', {})).toBe('abc');
    expect(seedDataVersion('abc', { population: 'BIGINT' })).toMatch(/^[0-9a-f]{64}$/);
    expect(seedDataVersion('abc', { population: 'BIGINT' })).not.toBe(seedDataVersion('abc', { population: 'DOUBLE' }));
  });
});

describe('the "seeds" field of strata.json', () => {
  function configError(seeds: unknown): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-seed-config-'));
    try {
      fs.writeFileSync(path.join(dir, 'strata.json'), JSON.stringify({ seeds }));
      loadProjectConfig(dir);
      return 'no error';
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message.replace(`${dir}/`, '');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('accepts a folder or { path, columnTypes }; anything else names the field', () => {
    expect(configError('reference')).toBe('no error');
    expect(configError({ path: 'reference', columnTypes: { countries: { population: 'DECIMAL(18, 2)' } } })).toBe('no error');
    expect(configError(5)).toMatch(/^strata\.json: seeds: must be the seeds folder \("seeds"\) or an object/);
    expect(configError({ pth: 'x' })).toBe('strata.json: seeds: Unrecognized key: "pth"');
    expect(configError({ columnTypes: { countries: 'BIGINT' } })).toBe('strata.json: seeds.columnTypes.countries: must map column names to DuckDB types');
    expect(configError({ columnTypes: { countries: { population: 'BIGINT); drop table x; --' } } })).toMatch(
      /^strata\.json: seeds\.columnTypes\.countries\.population: must be a DuckDB type/,
    );
  });
});
