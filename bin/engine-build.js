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
  bundleKysely(root, createRequire);
  writeFileSync(stampOf(root), `${JSON.stringify(state)}\n`);
  if (!quiet) console.log(`built the engine into dist/ (${state.files} source files, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/** Where the compiled storage finds kysely bundled into one file (see storage/kysely-runtime.ts). */
const KYSELY_BUNDLE = join('dist', 'storage', 'kysely.bundle.cjs');

/**
 * Bundles kysely's CommonJS build (~260 files) into one file beside the compiled storage, with
 * esbuild (tsx's dependency): Node loads it ~3× as fast, which every command opening storage
 * pays at start. Without esbuild the compiled storage requires kysely as installed.
 */
function bundleKysely(root, createRequire) {
  const require = createRequire(join(root, 'package.json'));
  let esbuild;
  try {
    esbuild = createRequire(require.resolve('tsx'))('esbuild');
  } catch {
    return;
  }
  esbuild.buildSync({
    entryPoints: [require.resolve('kysely')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    outfile: join(root, KYSELY_BUNDLE),
    logLevel: 'error',
  });
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
