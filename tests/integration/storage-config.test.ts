/**
 * `"storage"` in strata.json and `STRATA_STORAGE`: a path is a SQLite file; a `postgres://`
 * URL (directly or through `env:NAME`) is a URL, never a path (no file checked or created for
 * it); a password is never written in strata.json nor quoted in a message.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { storageLocation } from '../../core/model/config/project-config.ts';
import { ConfigError } from '../../core/model/errors.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-storage-config-'));
  vi.stubEnv('STRATA_STORAGE', undefined);
  vi.stubEnv('STRATA_WAREHOUSE', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function withStorage(storage: string): string {
  writeFileSync(join(dir, 'strata.json'), JSON.stringify({ storage }));
  return dir;
}

function configError(): ConfigError {
  try {
    loadProjectConfig(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('storage settings', () => {
  it('keeps a SQLite path a file', () => {
    const config = loadProjectConfig(withStorage('state/strata.db'));
    expect(config.storageUrl).toBeUndefined();
    expect(storageLocation(config)).toEqual({ kind: 'sqlite', file: join(dir, 'state', 'strata.db') });
  });

  it('takes a postgres:// URL as a URL, not a path, and checks no file for it', () => {
    const url = 'postgres://strata@db.internal:5433/strata';
    const config = loadProjectConfig(withStorage(url));
    expect(config.storageUrl).toBe(url);
    expect(storageLocation(config)).toEqual({ kind: 'postgres', url });
    expect(config.storageFile).not.toContain('db.internal');
    expect(existsSync(join(dir, 'postgres:'))).toBe(false);
    expect(loadProjectConfig(withStorage('postgresql://db.internal/strata')).storageUrl).toBe('postgresql://db.internal/strata');
  });

  it('reads env:NAME, which may hold a password', () => {
    vi.stubEnv('STRATA_TEST_STORE', 'postgres://strata:s3cret@db.internal/strata');
    expect(storageLocation(loadProjectConfig(withStorage('env:STRATA_TEST_STORE')))).toEqual({
      kind: 'postgres',
      url: 'postgres://strata:s3cret@db.internal/strata',
    });
    vi.stubEnv('STRATA_TEST_STORE', 'elsewhere/strata.db');
    expect(storageLocation(loadProjectConfig(dir))).toEqual({ kind: 'sqlite', file: join(dir, 'elsewhere', 'strata.db') });
  });

  it('names an env:NAME whose variable is not set', () => {
    vi.stubEnv('STRATA_TEST_STORE', undefined);
    withStorage('env:STRATA_TEST_STORE');
    expect(configError().message).toBe(
      `"storage" in ${join(dir, 'strata.json')} is "env:STRATA_TEST_STORE" but the environment variable STRATA_TEST_STORE is not set`,
    );
  });

  it('lets STRATA_STORAGE name a Postgres URL with its password', () => {
    withStorage('local.db');
    vi.stubEnv('STRATA_STORAGE', 'postgres://strata:s3cret@127.0.0.1:5432/team');
    expect(loadProjectConfig(dir).storageUrl).toBe('postgres://strata:s3cret@127.0.0.1:5432/team');
  });

  it('refuses a password written in strata.json, without quoting it', () => {
    withStorage('postgres://strata:s3cret@db.internal/strata');
    const error = configError();
    expect(error.message).toContain('a URL with a password is not written in strata.json: use "env:NAME"');
    expect(error.message).not.toContain('s3cret');
  });

  it('refuses a URL that does not parse, without quoting it', () => {
    vi.stubEnv('STRATA_STORAGE', 'postgres://strata:s3cret@[bad/strata');
    withStorage('local.db');
    const error = configError();
    expect(error.message).toBe('STRATA_STORAGE: not a valid postgres:// URL');
    expect(error.message).not.toContain('s3cret');
  });
});
