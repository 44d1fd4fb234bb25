/**
 * A project's TypeScript asset modules compiled to JavaScript once and kept in its `.strata/`
 * folder, so that the compiled engine imports them as plain ES modules: no module-hooks thread,
 * no tsx, no compiler (together ≈ 250 ms of every command's start on a 2-core machine).
 *
 * Each `.ts`/`.mts` module of the project (the asset files and every TypeScript file they import)
 * becomes `.strata/modules/files/<its path in the project>.mjs`, compiled by esbuild with the
 * options tsx uses (so a function's text, which an asset's code version hashes, is the same as
 * under tsx: checked against the tsx version below) and its imports rewritten: `strata` to the
 * engine that loads the project, a TypeScript module to its compiled file, any other relative
 * import (JSON, JavaScript) to the original file; packages and Node built-ins are left as
 * written (the compiled files sit inside the project folder, so they resolve from it).
 * `import.meta.url`, `.filename` and `.dirname` are set to what tsx gives, and an inline source
 * map points stack traces at the source. A rewritten `import()` changes the text of the function
 * holding it: {@link CompiledModules.rewrittenImports} lists those specifiers, for the loader to
 * check that no asset's function holds one.
 *
 * `.strata/modules/manifest.json` records each module's content hash and the TypeScript modules
 * it imports. A load whose modules all hash as recorded imports the compiled files; otherwise
 * they are compiled again first. Whatever this cannot reproduce exactly is left to tsx, for the
 * whole project: a module outside the project folder, a `.tsx`/`.cts` module, an `import()` of a
 * computed specifier, `import.meta.resolve` (or `import.meta` as a whole), a module that does
 * not compile (tsx then reports the error as before), or a folder where the cache cannot be
 * written.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stopEsbuild } from './esbuild-service.js';

/** What the compiled files were compiled against: a manifest for another one is stale. */
const FORMAT = 2;

/**
 * The tsx release whose transform this reproduces (its esbuild options and the `.then(…)` it
 * appends to every `import()`); with another one installed, projects load through tsx.
 */
const TSX_VERSION = '4.23.15';
/** What tsx 4.23.15 appends to every `import()` (it unwraps a CommonJS module's default export). */
const TSX_IMPORT_SUFFIX = '.then(s=>{const e="default";return s[e]&&typeof s[e]=="object"&&"__esModule"in s[e]?s[e]:s})';
/** The namespace asset-modules.ts registers tsx under: tsx puts it in each module's URL. */
const TSX_NAMESPACE_QUERY = '?tsx-namespace=strata-assets';

interface ManifestModule {
  /** sha256 of the source text. */
  readonly hash: string;
  /** The TypeScript modules it imports (statically or with a literal `import()`), project-relative. */
  readonly imports: readonly string[];
  /** The specifiers its `import()`s were rewritten to, as they appear in its compiled text. */
  readonly rewritten: readonly string[];
}

interface Manifest {
  readonly format: number;
  readonly engine: string;
  readonly node: string;
  readonly modules: Record<string, ManifestModule>;
}

/** The files of a project's compiled-module cache. */
function cacheDir(projectDir: string): string {
  return join(projectDir, '.strata', 'modules');
}

/** Where the compiled `source` (project-relative, `/`-separated) lives. */
function compiledFile(projectDir: string, source: string): string {
  return join(cacheDir(projectDir), 'files', `${source}.mjs`);
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** `path` relative to `projectDir` with `/`, or undefined when it lies outside. */
function projectRelative(projectDir: string, path: string): string | undefined {
  const rel = relative(projectDir, path);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || /^[a-zA-Z]:/.test(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The compiled file URL of each of `files` (TypeScript asset modules of the project in
 * `projectDir`), compiling what changed since the last load; `engineUrl` is what `strata`
 * imports resolve to. Undefined when the project must be loaded through tsx (see the top of
 * this file).
 *
 * @example
 * const urls = await compiledAssetModules('/p', ['/p/defs/orders.ts'], engineUrl);
 * if (urls) await import(urls.get('/p/defs/orders.ts') as string);
 */
export async function compiledAssetModules(projectDir: string, files: readonly string[], engineUrl: string): Promise<CompiledModules | undefined> {
  let root: string;
  let entries: string[];
  try {
    root = realpathSync.native(projectDir);
    entries = files.map((file) => projectRelative(root, realpathSync.native(file)) as string);
  } catch {
    return undefined;
  }
  if (entries.some((entry) => entry === undefined)) return undefined;
  if (tsxVersion() !== TSX_VERSION) return undefined;
  let manifest = readManifest(root, engineUrl);
  if (manifest === undefined || !isFresh(root, manifest, entries)) manifest = await compile(root, entries, engineUrl);
  if (manifest === undefined) return undefined;
  return {
    urls: new Map(files.map((file, i) => [file, pathToFileURL(compiledFile(root, entries[i] as string)).href])),
    rewrittenImports: Object.values(manifest.modules).flatMap((m) => m.rewritten),
  };
}

/** A project's compiled asset modules. */
export interface CompiledModules {
  /** Source file → compiled file URL. */
  readonly urls: ReadonlyMap<string, string>;
  /** Every specifier an `import()` was rewritten to (quoted, as in the compiled text). */
  readonly rewrittenImports: readonly string[];
}

/** The installed tsx's version. */
function tsxVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve('tsx/package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function readManifest(root: string, engineUrl: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(cacheDir(root), 'manifest.json'), 'utf8')) as Manifest;
    return manifest.format === FORMAT && manifest.engine === engineUrl && manifest.node === process.version ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** Whether every module `entries` reach hashes as recorded and has its compiled file. */
function isFresh(root: string, manifest: Manifest, entries: readonly string[]): boolean {
  const seen = new Set<string>();
  const pending = [...entries];
  while (pending.length > 0) {
    const source = pending.pop() as string;
    if (seen.has(source)) continue;
    seen.add(source);
    const recorded = manifest.modules[source];
    if (recorded === undefined || !existsSync(compiledFile(root, source))) return false;
    let text: string;
    try {
      text = readFileSync(join(root, source), 'utf8');
    } catch {
      return false;
    }
    if (hashOf(text) !== recorded.hash) return false;
    pending.push(...recorded.imports);
  }
  return true;
}

/** esbuild, as tsx (the engine's dependency) resolves it; undefined when it cannot be loaded. */
function loadEsbuild(): typeof import('esbuild') | undefined {
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx'));
    return fromTsx('esbuild') as typeof import('esbuild');
  } catch {
    return undefined;
  }
}

/** Thrown inside the compile when a module needs tsx; caught by {@link compile}. */
class NeedsTsx extends Error {}

/**
 * Compiles every module `entries` reach, writes the files and the manifest and returns it;
 * undefined when the project needs tsx. Stops esbuild's service process before returning.
 */
async function compile(root: string, entries: readonly string[], engineUrl: string): Promise<Manifest | undefined> {
  const esbuild = loadEsbuild();
  if (esbuild === undefined) return undefined;
  const modules: Record<string, ManifestModule> = {};
  const outputs = new Map<string, string>();
  try {
    const pending = [...entries];
    while (pending.length > 0) {
      const source = pending.pop() as string;
      if (modules[source] !== undefined) continue;
      const { code, imports, hash, rewritten } = await compileOne(esbuild, root, source, engineUrl);
      modules[source] = { hash, imports, rewritten };
      outputs.set(source, code);
      pending.push(...imports);
    }
    for (const [source, code] of outputs) writeAtomically(compiledFile(root, source), code);
    const manifest: Manifest = { format: FORMAT, engine: engineUrl, node: process.version, modules };
    writeAtomically(join(cacheDir(root), 'manifest.json'), `${JSON.stringify(manifest)}\n`);
    return manifest;
  } catch {
    // NeedsTsx, a compile error (tsx reports it as before) or a folder that cannot be written.
    return undefined;
  } finally {
    await stopEsbuild(esbuild);
  }
}

const TYPESCRIPT_MODULE = /\.(?:ts|mts)$/;
const OTHER_TYPESCRIPT = /\.(?:tsx|cts)$/;
/** Marks esbuild's own resolution of a path this plugin asked for. */
const RESOLVING = Symbol('resolving');

/** One module compiled, with its TypeScript imports (project-relative). */
async function compileOne(
  esbuild: typeof import('esbuild'),
  root: string,
  source: string,
  engineUrl: string,
): Promise<{ code: string; imports: string[]; hash: string; rewritten: string[] }> {
  const file = join(root, source);
  const text = readFileSync(file, 'utf8');
  // `import.meta` other than the three names set below (`.resolve`, or the object itself).
  if (/import\.meta(?!\.(?:url|filename|dirname)\b)/.test(text)) throw new NeedsTsx();
  const out = compiledFile(root, source);
  const imports = new Set<string>();
  const rewritten: string[] = [];
  let dynamicImports = 0;
  const result = await esbuild.build({
    entryPoints: [file],
    outfile: out,
    write: false,
    bundle: true,
    treeShaking: false,
    format: 'esm',
    platform: 'node',
    // tsx's transform options, which decide how each function's text reads.
    target: `node${process.versions.node}`,
    minifyWhitespace: true,
    keepNames: true,
    supported: { 'import-attributes': true },
    sourcemap: 'external',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'strata-asset-modules',
        setup(build) {
          build.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind === 'entry-point' || args.pluginData === RESOLVING) return undefined;
            const dynamic = args.kind === 'dynamic-import';
            if (dynamic) dynamicImports++;
            if (args.path === 'strata') return { path: engineUrl, external: true };
            if (!args.path.startsWith('.') && !args.path.startsWith('/')) return { path: args.path, external: true };
            const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: RESOLVING });
            if (resolved.errors.length > 0 || OTHER_TYPESCRIPT.test(resolved.path)) throw new NeedsTsx();
            const from = dirname(out);
            let path: string;
            if (!TYPESCRIPT_MODULE.test(resolved.path)) path = specifier(relative(from, resolved.path));
            else {
              const target = projectRelative(root, resolved.path);
              if (target === undefined) throw new NeedsTsx();
              imports.add(target);
              path = specifier(relative(from, compiledFile(root, target)));
            }
            if (dynamic && path !== args.path) rewritten.push(JSON.stringify(path));
            return { path, external: true };
          });
        },
      },
    ],
  });
  const code = result.outputFiles?.find((f) => f.path.endsWith('.mjs'))?.text;
  const map = result.outputFiles?.find((f) => f.path.endsWith('.map'))?.text;
  if (code === undefined || map === undefined) throw new NeedsTsx();
  // Every `import()` gets tsx's suffix; one this cannot find (a computed specifier) would also
  // resolve from the compiled file, not the source: such a project needs tsx.
  let suffixed = 0;
  const body = code.replace(/\/\/# sourceMappingURL=.*\s*$/, '').replace(/\bimport\("(?:[^"\\\n]|\\.)*"\)/g, (call) => {
    suffixed++;
    return `${call}${TSX_IMPORT_SUFFIX}`;
  });
  const written = (text.match(/\bimport\s*\(/g) ?? []).length;
  if (suffixed !== dynamicImports || dynamicImports < written) throw new NeedsTsx();
  return { code: withSourceIdentity(body, map, file), imports: [...imports], hash: hashOf(text), rewritten };
}

/**
 * `code` preceded by one line setting `import.meta` to what tsx gives the source `file`, with the
 * source map (shifted one line down) inline.
 */
function withSourceIdentity(code: string, map: string, file: string): string {
  const meta = `import.meta.url=${JSON.stringify(pathToFileURL(file).href + TSX_NAMESPACE_QUERY)};import.meta.filename=${JSON.stringify(file)};import.meta.dirname=${JSON.stringify(dirname(file))};`;
  const parsed = JSON.parse(map) as { mappings: string };
  parsed.mappings = `;${parsed.mappings}`;
  const inline = Buffer.from(JSON.stringify(parsed)).toString('base64');
  return `${meta}\n${code}\n//# sourceMappingURL=data:application/json;base64,${inline}\n`;
}

/** A relative path as an import specifier. */
function specifier(path: string): string {
  const posix = path.split(sep).join('/');
  return posix.startsWith('.') ? posix : `./${posix}`;
}

/** Writes `file` through a temporary file and a rename, so a concurrent load never reads half of it. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}
