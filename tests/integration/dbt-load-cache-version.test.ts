/**
 * The dbt load cache is keyed on Strata's version: a rendering cached by another version (which
 * may render Jinja differently) is never reused. The version is swapped by mocking the one
 * function that reads it; a cached rendering is marked by editing it, as in dbt-load-cache.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadProject } from '../../core/engine/project/project-loader.ts';

const running = vi.hoisted(() => ({ version: '1.0.0' }));
vi.mock('../../core/engine/package-location.ts', async (original) => ({
  ...(await original<typeof import('../../core/engine/package-location.ts')>()),
  strataVersion: () => running.version,
}));

describe('the dbt load cache across Strata versions', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dbt-cache-version-'));
    fs.mkdirSync(path.join(dir, 'models'));
    fs.writeFileSync(path.join(dir, 'dbt_project.yml'), 'name: versioned\nmodels:\n  versioned:\n    +materialized: table\n');
    fs.writeFileSync(path.join(dir, 'models', 'one.sql'), "select {{ 40 + 2 }} as answer, '{{ target.type }}' as kind\n");
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function sqlOf(key: string): Promise<string> {
    const project = await loadProject(dir);
    return (project.definitions.get(key)?.compute as { sql?: string } | undefined)?.sql ?? '';
  }

  it('reuses a rendering of the same version and renders again under another', async () => {
    running.version = '1.0.0';
    expect(await sqlOf('main/one')).toContain('42 as answer');
    const renders = path.join(dir, '.strata', 'dbt-renders.json');
    fs.writeFileSync(renders, fs.readFileSync(renders, 'utf8').replaceAll('42 as answer', '41 as answer'));
    expect(await sqlOf('main/one')).toContain('41 as answer');

    running.version = '1.1.0';
    expect(await sqlOf('main/one')).toContain('42 as answer');
  });
});
