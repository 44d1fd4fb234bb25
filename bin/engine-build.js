// The engine's build. `npm run build` (which `npm install` runs, as `prepare`) compiles the
// engine's TypeScript (core/, resources/, storage/, ui/: tsconfig.build.json) with tsc into
// dist/, then writes dist/build-stamp.json: how many source files there were and the newest
// one's modification time, both read before compiling. bin/assets.js runs dist/ when the stamp
// is current: always outside a development checkout, and in one (a `.git` beside package.json)
// when no source file was added, removed or changed since: a walk of the source folders that
// stats ~200 files, which bin/assets.js overlaps with loading the compiled engine.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's folder. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The entry point of the compiled CLI. */
export const COMPILED_CLI = join(ROOT, 'dist', 'core', 'cli', 'main.js');

/** The build's stamp in the package folder `root`. */
const stampOf = (root) => join(root, 'dist', 'build-stamp.json');
const BUILD_CONFIG = 'tsconfig.build.json';
/** Files outside the source folders that change what is built. */
const CONFIG_FILES = ['tsconfig.json', BUILD_CONFIG, 'package.json'];

/**
 * The source files' count and newest modification time (ms): the files under the build
 * config's `include` folders but not its `exclude` ones, and the config files. Asynchronous:
 * the reads run on libuv's threads while the caller's thread does other work.
 */
async function sourceState(root) {
  const config = JSON.parse(await readFile(join(root, BUILD_CONFIG), 'utf8'));
  const excluded = new Set((config.exclude ?? []).map((dir) => join(root, dir)));
  const times = [];
  const walk = async (dir) => {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        if (!entry.isDirectory()) times.push((await stat(path)).mtimeMs);
        else if (!excluded.has(path)) await walk(path);
      }),
    );
  };
  await Promise.all([
    ...config.include.map((dir) => walk(join(root, dir))),
    ...CONFIG_FILES.map(async (file) => times.push((await stat(join(root, file))).mtimeMs)),
  ]);
  return { files: times.length, newest: Math.max(...times) };
}

/** Whether dist/ holds a build of the source as it is now (see the top of this file); `root`: the package folder. */
export async function buildIsCurrent(root = ROOT) {
  let stamp;
  try {
    stamp = JSON.parse(await readFile(stampOf(root), 'utf8'));
  } catch {
    return false;
  }
  if (!existsSync(join(root, '.git'))) return true;
  const now = await sourceState(root);
  return now.files === stamp.files && now.newest <= stamp.newest;
}

/**
 * Compiles the engine into a clean dist/ and stamps it; throws when tsc reports errors (its
 * output is printed). `root`: the package folder; `quiet` prints nothing on success.
 */
export async function buildEngine({ root = ROOT, quiet = false } = {}) {
  const { spawnSync } = await import('node:child_process');
  const { createRequire } = await import('node:module');
  const state = await sourceState(root);
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  // The compiler's bin, located through the package.json it exports (`typescript/bin/tsc` is not exported).
  const typescript = createRequire(import.meta.url).resolve('typescript/package.json');
  const tsc = join(dirname(typescript), JSON.parse(readFileSync(typescript, 'utf8')).bin.tsc);
  const started = performance.now();
  const result = spawnSync(process.execPath, [tsc, '-p', BUILD_CONFIG], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`building the engine failed (tsc -p ${BUILD_CONFIG}):\n${result.stdout}${result.stderr}${result.error?.message ?? ''}`);
  bundleDependencies(root, createRequire);
  writeFileSync(stampOf(root), `${JSON.stringify(state)}\n`);
  if (!quiet) console.log(`built the engine into dist/ (${state.files} source files, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * Dependencies of the engine bundled into one file each, under dist/node_modules/ (where the
 * compiled modules' imports find them first): Node loads one file ~3× as fast as their many
 * (kysely's CommonJS build is ~260 files, zod's ES modules ~95), which every command pays at
 * start. `entry`: what to bundle, as the engine imports it; `format`: how the engine loads it.
 */
const BUNDLED = [
  { name: 'kysely', format: 'cjs' },
  { name: 'zod', format: 'esm' },
];

/**
 * Writes {@link BUNDLED} into dist/node_modules/ with esbuild (tsx's dependency); without
 * esbuild, the compiled engine loads them as installed.
 */
function bundleDependencies(root, createRequire) {
  const require = createRequire(join(root, 'package.json'));
  let esbuild;
  try {
    esbuild = createRequire(require.resolve('tsx'))('esbuild');
  } catch {
    return;
  }
  for (const { name, format } of BUNDLED) {
    const dir = join(root, 'dist', 'node_modules', name);
    const file = format === 'cjs' ? 'index.cjs' : 'index.mjs';
    try {
      // The CommonJS entry for `require`; the ES module one for `import`, as its package.json exports it.
      const main = require.resolve(name);
      const { json, dir: packageDir } = packageJsonOf(main, name);
      const entry = format === 'cjs' ? main : join(packageDir, esmEntry(json));
      esbuild.buildSync({ entryPoints: [entry], bundle: true, format, platform: 'node', outfile: join(dir, file), logLevel: 'error' });
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: json.version, private: true, exports: { '.': `./${file}` } })}\n`);
    } catch {
      // Not bundled: the compiled engine loads this dependency as installed.
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The file a package's `import` of its root resolves to (a relative path). */
function esmEntry(json) {
  const root = typeof json.exports === 'object' && json.exports !== null && '.' in json.exports ? json.exports['.'] : json.exports;
  const target = typeof root === 'string' ? root : (root?.import?.default ?? root?.import ?? root?.default);
  if (typeof target !== 'string') throw new Error(`no ES module entry in ${json.name}'s package.json`);
  return target;
}

/** The package.json (and its folder) of the package `name` that holds the file `entry`. */
function packageJsonOf(entry, name) {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    if (json.name === name) return { json, dir };
  }
  throw new Error(`no package.json of ${name} above ${entry}`);
}

/** Builds the engine unless dist/ is current. */
export async function ensureEngineBuilt(options = {}) {
  if (!(await buildIsCurrent(options.root))) await buildEngine(options);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildEngine();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
