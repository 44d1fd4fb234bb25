/**
 * What a run's start costs the other workers on Postgres storage: every run records its
 * definition version; when that version is the latest already, recording it takes no table lock
 * (a lock every run start took serialized the run starts of all workers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresStorage } from '../../storage/postgres-storage.ts';
import { onPostgres, postgresMissing, postgresUrl } from '../postgres.ts';

const missing = postgresMissing();
const SCHEMA = `run_start_${process.pid}`;

function schemaUrl(): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

describe.skipIf(missing !== undefined)(`recording the definition version on Postgres storage${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`, `create schema ${SCHEMA}`));
  afterAll(() => onPostgres(`drop schema if exists ${SCHEMA} cascade`));

  it('records the latest version again without waiting for a lock another worker holds on definition_versions', async () => {
    const storage = await PostgresStorage.open(schemaUrl());
    const holder = new pg.Client({ connectionString: schemaUrl() });
    await holder.connect();
    try {
      await storage.recordLineage('v1', [{ upstream: 'raw/a', downstream: 'marts/b' }]);
      await holder.query('begin');
      await holder.query('lock table definition_versions in share row exclusive mode');
      const again = storage.recordLineage('v1', [{ upstream: 'raw/a', downstream: 'marts/b' }]).then(() => 'done');
      const timeout = new Promise((resolve) => setTimeout(() => resolve('waited'), 2_000));
      expect(await Promise.race([again, timeout])).toBe('done');
      await holder.query('commit');
      // A new version still becomes the latest, and an older one again when recorded again.
      await storage.recordLineage('v2', []);
      expect(await storage.latestDefinitionVersion()).toBe('v2');
      await storage.recordLineage('v1', []);
      expect(await storage.latestDefinitionVersion()).toBe('v1');
      expect(await storage.lineage('v1')).toEqual([{ upstream: 'raw/a', downstream: 'marts/b', via: 'data' }]);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
      await storage.close();
    }
  });
});
