/**
 * How the CLI loads a project's modules: the compiled engine (dist/) loads tsx only for a
 * project with TypeScript asset modules, and a command that compiled some leaves no process
 * behind (tsx's esbuild service) in its process group once it has exited.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, Sandbox, startCli } from './cli-harness.ts';

const sandbox = Sandbox.create();
afterAll(() => sandbox.cleanup());

/** A project with one TypeScript asset whose text is new, so tsx must compile it (no cached output). */
function typescriptProject(name: string): string {
  return sandbox.writeProject(name, {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name }),
    'defs/raw/numbers.ts': [
      `// ${randomUUID()}: new text every time, so that tsx compiles it`,
      `import { asset } from 'strata';`,
      `export const numbers = asset({`,
      `  key: 'raw/numbers',`,
      `  async materialize(ctx) {`,
      `    return { rowCount: await ctx.warehouse.replaceTable('select 1 as n') };`,
      `  },`,
      `});`,
    ].join('\n'),
  });
}

/** Processes (pid, state, command) whose process group is `group`, read from /proc (Linux). */
function processesInGroup(group: number): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // `pid (command) state ppid pgrp …`: the command may hold spaces and parentheses.
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group) found.push(`${pid} ${state} ${command}`);
  }
  return found;
}

describe.skipIf(process.platform !== 'linux')('a command in a process group of its own', () => {
  for (const args of [['list'], ['materialize', '--select', '*']]) {
    it(`leaves the group empty once \`assets ${args[0]}\` has exited, after compiling TypeScript asset modules`, async () => {
      const dir = typescriptProject(`group-${args[0]}`);
      const { child, done } = startCli([...args, '--project', dir], { detached: true });
      const result = await done;
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('raw/numbers');
      expect(processesInGroup(child.pid as number)).toEqual([]);
    });
  }
});

/**
 * A module hook, preloaded with `--import`, that prints every ES module's URL on stderr; with
 * NODE_DEBUG=module, Node prints every CommonJS module it loads there too.
 */
function moduleProbe(): Record<string, string> {
  const dir = sandbox.writeProject('probe', {
    'hooks.mjs': `export async function load(url, context, next) {
  process.stderr.write(\`loaded \${url}\\n\`);
  return next(url, context);
}\n`,
  });
  const file = path.join(dir, 'register.mjs');
  fs.writeFileSync(file, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${dir}/hooks.mjs`).href)});\n`);
  return { NODE_OPTIONS: `--import ${file}`, NODE_DEBUG: 'module' };
}

/** The packages under node_modules whose modules a CLI run loaded, from {@link moduleProbe}'s output. */
function packagesLoaded(stderr: string): Set<string> {
  return new Set([...stderr.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1] as string));
}

describe('what a command loads', () => {
  const probe = moduleProbe();

  it('neither tsx nor the Postgres driver for a project of SQL files only', () => {
    const dir = sandbox.writeProject('sql-only', {
      'strata.json': JSON.stringify({ name: 'sql-only' }),
      'defs/raw/a.sql': 'select 1 as n',
      'defs/staging/b.sql': 'select n + 1 as n from raw.a',
    });
    const result = runCli(['list', '--project', dir], probe);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('staging/b');
    const loaded = packagesLoaded(result.stderr);
    expect(loaded).toContain('zod');
    expect(loaded).not.toContain('tsx');
    expect(loaded).not.toContain('esbuild');
    expect(loaded).not.toContain('pg');
  });

  it('the storage code before the project’s TypeScript modules, for a command that reads storage', () => {
    // After them, each module would go through the module-hooks thread tsx runs on: a round trip each.
    const result = runCli(['status', '--project', typescriptProject('storage-first')], probe);
    expect(result.status).toBe(0);
    // ES modules (the probe's `loaded URL`) and CommonJS ones (NODE_DEBUG's `load "PATH"`: kysely is required).
    const loads = result.stderr.split('\n').filter((line) => line.startsWith('loaded ') || / load "/.test(line));
    const lastKysely = loads.findLastIndex((line) => line.includes('/node_modules/kysely/'));
    const firstAssetModule = loads.findIndex((line) => line.includes('/defs/raw/numbers.ts'));
    expect(lastKysely).toBeGreaterThan(-1);
    expect(firstAssetModule).toBeGreaterThan(-1);
    expect(lastKysely).toBeLessThan(firstAssetModule);
    // The build bundles kysely and zod into dist/node_modules/ (bin/engine-build.js): their files are not loaded one by one.
    for (const name of ['kysely', 'zod']) {
      expect(loads.some((line) => line.includes(`/dist/node_modules/${name}/`))).toBe(true);
      expect(loads.filter((line) => line.includes(`/node_modules/${name}/`) && !line.includes('/dist/node_modules/'))).toEqual([]);
    }
  });

  it('esbuild for a project with TypeScript asset modules the first time, then neither esbuild nor tsx', () => {
    const dir = typescriptProject('typescript');
    const first = runCli(['list', '--project', dir], probe);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('raw/numbers');
    expect(packagesLoaded(first.stderr)).toContain('esbuild');
    const second = runCli(['list', '--project', dir], probe);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const loaded = packagesLoaded(second.stderr);
    expect(loaded).not.toContain('esbuild');
    expect(loaded).not.toContain('tsx');
  });

  it('tsx for a project whose modules import a computed specifier (which compiled modules would resolve elsewhere)', () => {
    const dir = sandbox.writeProject('computed-import', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({ name: 'computed-import' }),
      'defs/lib/names.ts': `export const NAME: string = 'raw/computed';\n`,
      'defs/raw/computed.ts': [
        `import { asset } from 'strata';`,
        `const lib = './../lib/names.ts';`,
        `const { NAME } = (await import(lib)) as { NAME: string };`,
        `export const computed = asset({ key: NAME, async materialize() { return {}; } });`,
      ].join('\n'),
    });
    for (let i = 0; i < 2; i++) {
      const result = runCli(['list', '--project', dir], probe);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('raw/computed');
      expect(packagesLoaded(result.stderr)).toContain('tsx');
    }
  });
});

describe('compiled asset modules', () => {
  it('are compiled again when a module they import changes, and still see their source file as import.meta.url', () => {
    const description = (text: string) => `export const DESCRIPTION: string = ${JSON.stringify(text)};\n`;
    const dir = sandbox.writeProject('recompiled', {
      'package.json': '{"type":"module"}\n',
      'strata.json': JSON.stringify({ name: 'recompiled' }),
      'lib/description.ts': description('first text'),
      'defs/raw/where.ts': [
        `import { readFileSync } from 'node:fs';`,
        `import { asset } from 'strata';`,
        `import { DESCRIPTION } from '../../lib/description.ts';`,
        `const marker = readFileSync(new URL('./marker.txt', import.meta.url), 'utf8').trim();`,
        `export const where = asset({ key: 'raw/where', description: \`\${DESCRIPTION} \${marker}\`, async materialize() { return {}; } });`,
      ].join('\n'),
      'defs/raw/marker.txt': 'beside-the-source\n',
    });
    const list = () => parseJson<{ key: string; description: string }[]>(runCli(['list', '--json', '--project', dir]));
    expect(list()[0]?.description).toBe('first text beside-the-source');
    expect(fs.existsSync(path.join(dir, '.strata', 'modules', 'manifest.json'))).toBe(true);
    expect(list()[0]?.description).toBe('first text beside-the-source');
    fs.writeFileSync(path.join(dir, 'lib', 'description.ts'), description('second text'));
    expect(list()[0]?.description).toBe('second text beside-the-source');
  });

  it('give every asset the code version tsx gives it, also one whose function imports a module with import()', () => {
    const files = {
      'package.json': '{"type":"module"}\n',
      'lib/helper.ts': `export const n: number = 1;\n`,
      'defs/raw/plain.ts': [
        `import { asset } from 'strata';`,
        `export const plain = asset({ key: 'raw/plain', async materialize(ctx) { const rows: number = 1; ctx.log.info(\`\${rows}\`); return {}; } });`,
      ].join('\n'),
      'defs/raw/lazy.ts': [
        `import { asset } from 'strata';`,
        `export const lazy = asset({ key: 'raw/lazy', async materialize() { const { n } = await import('../../lib/helper.ts'); return { rowCount: n }; } });`,
      ].join('\n'),
    };
    const compiled = sandbox.writeProject('versions-compiled', { ...files, 'strata.json': JSON.stringify({ name: 'v' }) });
    // A computed import() anywhere makes the whole project load through tsx.
    const throughTsx = sandbox.writeProject('versions-tsx', {
      ...files,
      'strata.json': JSON.stringify({ name: 'v' }),
      'defs/raw/computed.ts': `const lib = '../../lib/helper.ts';\nexport const loaded = await import(lib);\n`,
    });
    const versions = (dir: string) =>
      Object.fromEntries(parseJson<{ key: string; codeVersion: string }[]>(runCli(['list', '--json', '--project', dir])).map((a) => [a.key, a.codeVersion]));
    const expected = versions(throughTsx);
    expect(Object.keys(expected).sort()).toEqual(['raw/lazy', 'raw/plain']);
    expect(versions(compiled)).toEqual(expected);
    expect(versions(compiled)).toEqual(expected);
    expect(fs.existsSync(path.join(throughTsx, '.strata', 'modules', 'manifest.json'))).toBe(false);
  });
});
