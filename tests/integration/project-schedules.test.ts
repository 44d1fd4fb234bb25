/**
 * The loader collects the schedules a project's modules export, checks their names and
 * selections against the graph, and reports problems with the schedule and its file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionErrors } from '../../core/model/errors.ts';
import { loadProject } from '../../core/engine/project/project-loader.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-schedules-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const STRATA = path.resolve(import.meta.dirname, '../../core/index.ts');

function write(files: Record<string, string>): void {
  const all = { 'strata.json': '{ "name": "s", "daemon": { "tickSeconds": 5, "pools": { "api": 2 } } }', 'package.json': '{ "type": "module" }', ...files };
  for (const [file, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text.replaceAll("'strata'", JSON.stringify(STRATA)));
  }
}

const ASSETS = {
  'defs/raw/a.ts':
    "import { asset, eager } from 'strata';\nexport const a = asset({ key: 'raw/a', automation: eager(), pool: 'api', materialize: () => undefined });\n",
  'defs/marts/b.sql': "-- automation: on_cron('0 6 * * *', 'Europe/Paris')\nselect * from raw.a\n",
};

describe('schedules in a project', () => {
  it('are collected from every module, sorted by name, with their files; daemon settings load', async () => {
    write({
      ...ASSETS,
      'defs/schedules.ts':
        "import { schedule } from 'strata';\nexport const z = schedule({ name: 'zulu', cron: '@daily', selection: 'marts/*' });\nexport default z;\n",
      'defs/more/alpha.ts':
        "import { schedule } from 'strata';\nexport const list = [schedule({ name: 'alpha', cron: '0 * * * *', selection: '+marts/b', partition: 'latest' })];\n",
    });
    const project = await loadProject(dir);
    expect(project.schedules.map((s) => [s.name, s.file])).toEqual([
      ['alpha', 'defs/more/alpha.ts'],
      ['zulu', 'defs/schedules.ts'],
    ]);
    expect(String(project.graph.spec('raw/a').automation)).toBe('eager()');
    expect(project.graph.spec('raw/a').pool).toBe('api');
    expect(String(project.graph.spec('marts/b').automation)).toBe("on_cron('0 6 * * *', 'Europe/Paris')");
    expect(project.config.daemon).toEqual({ tickSeconds: 5, maxConcurrentRuns: 2, pools: { api: 2 } });
  });

  it('report duplicate names and selections that do not resolve, naming schedule and file', async () => {
    write({
      ...ASSETS,
      'defs/one.ts': "import { schedule } from 'strata';\nexport const s = schedule({ name: 'nightly', cron: '@daily', selection: 'marts/*' });\n",
      'defs/two.ts':
        "import { schedule } from 'strata';\nexport const s = schedule({ name: 'nightly', cron: '@daily', selection: 'mart/*' });\nexport const t = schedule({ name: 'other', cron: '@daily', selection: 'marts/bb' });\n",
    });
    const error = await loadProject(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionErrors);
    const lines = (error as DefinitionErrors).errors.map((e) => [e.code, e.context.file, e.message]);
    expect(lines).toEqual([
      ['duplicate_schedule', 'defs/two.ts', 'schedule "nightly" is defined twice (also in defs/one.ts)'],
      [
        'schedule_invalid',
        'defs/two.ts',
        expect.stringMatching(/^schedule "other": selection "marts\/bb": unknown asset "marts\/bb".*did you mean "marts\/b"/),
      ],
    ]);
  });
});
