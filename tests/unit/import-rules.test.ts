/**
 * The architecture's import rules (README, "Architecture"), checked on the real source tree so
 * they stay true: each layer imports only the layers below it, the pure model touches no files,
 * environment or database, the CLI and the UI never import each other, and no folder cycle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderCycles, importsOf, type Layer, layerViolations, listSources } from './import-graph.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The storage interface: records and stores, no implementation. */
const STORAGE_INTERFACE = [
  'storage/storage.ts',
  'storage/staleness-store.ts',
  'storage/daemon-tick-store.ts',
  'storage/daemon-lock.ts',
  'storage/alert-delivery-store.ts',
];

/** The warehouse interface: what a shell may know of the warehouse it is handed. */
const WAREHOUSE_INTERFACE = 'resources/warehouse.ts';

const LAYERS: readonly Layer[] = [
  {
    name: 'model',
    owns: ['core/model/'],
    mayImport: [],
    typesFrom: STORAGE_INTERFACE,
    packages: ['zod', 'graphology', 'graphology-dag', 'cron-parser', 'node:crypto', 'node:path', 'node:module'],
    forbiddenText: [/process\.(env|cwd|argv|exit)\b/],
  },
  { name: 'storage', owns: ['storage/'], mayImport: ['model'] },
  { name: 'resources', owns: ['resources/'], mayImport: ['model'] },
  {
    name: 'engine',
    owns: ['core/engine/'],
    mayImport: ['model', 'storage', 'resources'],
    // Not an import: the module hooks point a project's `import 'strata'` at the public API (core/engine/project/asset-modules.ts).
    alsoFiles: ['core/index.js'],
  },
  {
    name: 'cli',
    owns: ['core/cli/'],
    mayImport: ['model', 'engine'],
    alsoFiles: [...STORAGE_INTERFACE, 'core/engine.ts'],
    typesFrom: [WAREHOUSE_INTERFACE],
  },
  { name: 'ui', owns: ['ui/'], mayImport: ['model', 'engine'], alsoFiles: STORAGE_INTERFACE, typesFrom: [WAREHOUSE_INTERFACE] },
  { name: 'public API', owns: ['core/index.ts', 'core/engine.ts'], mayImport: ['model', 'engine', 'storage', 'resources', 'ui'] },
];

/** A folder is a unit, except that a shell (the CLI, the UI) is one unit and files at a layer's root are each their own. */
function unitOf(file: string): string {
  if (file.startsWith('core/cli/')) return 'core/cli';
  if (file.startsWith('ui/')) return 'ui';
  const folder = path.posix.dirname(file);
  return ['core', 'core/model', 'core/engine'].includes(folder) ? file : folder;
}

function readSources(): Map<string, string> {
  const files = listSources(ROOT, ['core', 'resources', 'storage', 'ui'], ['ui/static/']);
  return new Map(files.map((file) => [file, fs.readFileSync(path.join(ROOT, file), 'utf8')]));
}

describe('the import rules of the source tree', () => {
  const sources = readSources();

  it('reads the whole engine', () => {
    // A guard for the rules below: an empty or partial scan would pass them vacuously.
    expect(sources.size).toBeGreaterThan(150);
    for (const layer of ['core/model/', 'core/engine/', 'core/cli/', 'ui/', 'storage/', 'resources/']) {
      const owned = [...sources.keys()].filter((file) => file.startsWith(layer));
      expect(owned.length, layer).toBeGreaterThan(0);
    }
    const relative = [...sources].flatMap(([file, text]) => importsOf(file, text)).filter((edge) => edge.relative);
    expect(relative.length).toBeGreaterThan(800);
    expect(relative.filter((edge) => !sources.has(edge.to) && !edge.to.endsWith('.js'))).toEqual([]);
  });

  it('every layer imports only the layers below it', () => {
    expect(layerViolations(LAYERS, sources)).toEqual([]);
  });

  it('every file belongs to a layer', () => {
    const owners = LAYERS.flatMap((layer) => layer.owns);
    const orphans = [...sources.keys()].filter((file) => !owners.some((owned) => (owned.endsWith('/') ? file.startsWith(owned) : file === owned)));
    expect(orphans).toEqual([]);
  });

  it('no folder imports a folder that imports it back', () => {
    expect(folderCycles(sources, unitOf)).toEqual([]);
  });
});

describe('the rule checker', () => {
  const layers: readonly Layer[] = [
    { name: 'low', owns: ['low/'], mayImport: [], typesFrom: ['mid/types.ts'], packages: ['node:path'], forbiddenText: [/process\.env\b/] },
    { name: 'mid', owns: ['mid/'], mayImport: ['low'] },
  ];

  it('reports an upward import, a value import of a types-only file, a package and process.env; passes the allowed ones', () => {
    const files = new Map([
      ['low/a.ts', "import { b } from '../mid/b.ts';\nimport type { T } from '../mid/types.ts';\nimport { readFileSync } from 'node:fs';\n"],
      ['low/c.ts', "import { T } from '../mid/types.ts';\nexport const home = process.env.HOME;\n"],
      ['low/d.ts', "import path from 'node:path';\n// import { b } from '../mid/b.ts';\n/** import('../mid/b.ts') */\n"],
      ['mid/b.ts', "import { a } from '../low/a.ts';\nconst w = new URL('../low/worker.js', import.meta.url);\n"],
      ['mid/types.ts', 'export interface T {}\n'],
    ]);
    expect(layerViolations(layers, files)).toEqual([
      'low/a.ts -> mid/b.ts (low may not import mid)',
      'low/a.ts -> node:fs (low may not import this package)',
      'low/c.ts: low must not use process\\.env\\b',
      'low/c.ts -> mid/types.ts (low may not import mid)',
    ]);
  });

  it('finds a cycle through dynamic imports and worker URLs, and names the imports that make it', () => {
    const files = new Map([
      ['x/one.ts', "const m = await import('../y/two.ts');\n"],
      ['y/two.ts', "new Worker(new URL('../x/one.ts', import.meta.url));\n"],
      ['z/three.ts', "import '../x/one.ts';\n"],
    ]);
    expect(folderCycles(files, (file) => path.posix.dirname(file))).toEqual([['x <-> y', 'y/two.ts -> x/one.ts', 'x/one.ts -> y/two.ts']]);
  });
});
