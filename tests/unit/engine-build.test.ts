/**
 * The engine's build stamp (bin/engine-build.js), on a tiny package of its own in a temp
 * folder: built with the real tsc, then edited the ways a checkout is.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildEngine, buildIsCurrent } from '../../bin/engine-build.js';

let root: string;

const FILES: Readonly<Record<string, string>> = {
  'package.json': '{"type":"module"}\n',
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, noEmit: true, allowImportingTsExtensions: true } }),
  'tsconfig.build.json': JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { noEmit: false, rewriteRelativeImportExtensions: true, rootDir: '.', outDir: 'dist', types: [] },
    include: ['core'],
    exclude: ['core/static'],
  }),
  'core/main.ts': `import { answer } from './answer.ts';\nexport const main = (): number => answer;\n`,
  'core/answer.ts': 'export const answer: number = 42;\n',
  'core/static/page.js': '// served as it is: not compiled, not watched\n',
};

/** Sets a file's modification time `seconds` from now. */
function touch(file: string, seconds: number): void {
  const when = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(path.join(root, file), when, when);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-engine-build-'));
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  // Every file dated a minute ago, so the build's stamp is older than any edit below.
  for (const file of Object.keys(FILES)) touch(file, -60);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the engine build', () => {
  beforeEach(async () => {
    fs.mkdirSync(path.join(root, '.git'), { recursive: true });
    await buildEngine({ root, quiet: true });
  });

  it('compiles into dist/ with .ts imports rewritten to .js, and is current', async () => {
    expect(fs.readFileSync(path.join(root, 'dist/core/main.js'), 'utf8')).toContain(`from './answer.js'`);
    expect(await buildIsCurrent(root)).toBe(true);
  });

  it('is stale in a checkout once a source file or a config file changed', async () => {
    touch('core/answer.ts', 5);
    expect(await buildIsCurrent(root)).toBe(false);
    await buildEngine({ root, quiet: true });
    touch('tsconfig.build.json', 10);
    expect(await buildIsCurrent(root)).toBe(false);
  });

  it('is stale in a checkout once a source file was added or removed', async () => {
    fs.writeFileSync(path.join(root, 'core/extra.ts'), 'export {};\n');
    touch('core/extra.ts', -120); // even one older than the build
    expect(await buildIsCurrent(root)).toBe(false);
    fs.rmSync(path.join(root, 'core/extra.ts'));
    expect(await buildIsCurrent(root)).toBe(true);
    fs.rmSync(path.join(root, 'core/answer.ts'));
    expect(await buildIsCurrent(root)).toBe(false);
    fs.writeFileSync(path.join(root, 'core/answer.ts'), FILES['core/answer.ts'] as string);
  });

  it('ignores the excluded folders', async () => {
    touch('core/static/page.js', 15);
    expect(await buildIsCurrent(root)).toBe(true);
  });

  it('is current outside a checkout whatever the source, and never without a stamp', async () => {
    fs.rmSync(path.join(root, '.git'), { recursive: true });
    touch('core/main.ts', 20);
    expect(await buildIsCurrent(root)).toBe(true);
    fs.rmSync(path.join(root, 'dist/build-stamp.json'));
    expect(await buildIsCurrent(root)).toBe(false);
  });

  it('fails with tsc’s message when the source does not compile, leaving no stamp', async () => {
    fs.writeFileSync(path.join(root, 'core/broken.ts'), 'export const x: number = "text";\n');
    try {
      await expect(buildEngine({ root, quiet: true })).rejects.toThrow(/building the engine failed[\s\S]*core\/broken\.ts/);
      expect(await buildIsCurrent(root)).toBe(false);
    } finally {
      fs.rmSync(path.join(root, 'core/broken.ts'));
    }
  });
});
