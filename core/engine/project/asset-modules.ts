import { register as registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RUNS_COMPILED } from '../package-location.ts';
import { compiledAssetModules } from './compiled-asset-modules.ts';

type ScopedImport = (specifier: string, parentUrl: string) => Promise<unknown>;

/** The compiled engine's TypeScript loading, set up by the first asset module it imports. */
let typescript: Promise<{ readonly importModule: ScopedImport; readonly port: MessagePort }> | undefined;

/** Asset modules compiled into their project's `.strata/` folder: source file → compiled file URL. */
const compiled = new Map<string, string>();
/** What `import()`s in the compiled modules were rewritten to (see {@link compiledTextDiffers}). */
const rewrittenImports = new Set<string>();
/** Projects whose compiled modules read differently from tsx's: loaded through tsx from then on. */
const tsxProjects = new Set<string>();

/** How long {@link closeAssetModules} waits for the module-hooks thread to answer. */
const CLOSE_WAIT_MS = 3_000;

/**
 * Imports one of a project's asset modules (a `.ts`/`.mts` file). From source, the runtime
 * that runs the engine (vitest, or the CLI's source fallback through tsx) compiles TypeScript
 * and maps `strata` itself. The compiled engine registers, on the first call, tsx for these
 * modules only (a namespace: the engine's own modules never go through it) and the hook that
 * resolves their `strata` imports to this engine (see asset-module-hooks.js): a project of SQL
 * files alone loads neither.
 */
export async function importAssetModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (!RUNS_COMPILED) return (await import(url)) as Record<string, unknown>;
  const compiledUrl = compiled.get(file);
  if (compiledUrl !== undefined) return (await import(compiledUrl)) as Record<string, unknown>;
  typescript ??= registerTypeScript();
  return (await (await typescript).importModule(url, import.meta.url)) as Record<string, unknown>;
}

/**
 * Called with all of a project's asset modules (`.ts`/`.mts`) before any is imported: the
 * compiled engine then imports them compiled, from the project's `.strata/modules/` (see
 * compiled-asset-modules.ts), or, when that cannot reproduce tsx exactly, every one of them
 * through tsx (one project's modules never mix the two, which would load a shared module twice).
 * From source it does nothing.
 */
export async function prepareAssetModules(projectDir: string, files: readonly string[]): Promise<void> {
  if (!RUNS_COMPILED || files.length === 0) return;
  for (const file of files) compiled.delete(file);
  if (tsxProjects.has(projectDir)) return;
  const modules = await compiledAssetModules(projectDir, files, ENGINE_URL);
  if (modules === undefined) return;
  // tsx shows TypeScript lines in stack traces; the compiled modules' inline source maps do the same.
  process.setSourceMapsEnabled(true);
  for (const [file, compiledUrl] of modules.urls) compiled.set(file, compiledUrl);
  for (const specifier of modules.rewrittenImports) rewrittenImports.add(specifier);
}

/**
 * Whether `functionText` (an asset's materialize or observe function, whose text its code
 * version hashes) holds an `import()` whose specifier the compiled copy rewrote, so it reads
 * differently than under tsx. The loader then calls {@link loadThroughTsx} and loads again.
 */
export function compiledTextDiffers(functionText: string): boolean {
  for (const specifier of rewrittenImports) if (functionText.includes(specifier)) return true;
  return false;
}

/** Loads the project in `projectDir` through tsx from now on in this process. */
export function loadThroughTsx(projectDir: string): void {
  tsxProjects.add(projectDir);
}

/** What `import … from 'strata'` in an asset module resolves to: this engine's public API. */
const ENGINE_URL = new URL('../../index.js', import.meta.url).href;

async function registerTypeScript(): Promise<{ importModule: ScopedImport; port: MessagePort }> {
  const { register } = await import('tsx/esm/api');
  const scoped = register({ namespace: 'strata-assets' });
  // Registered after tsx, so it resolves first: `strata` maps to this engine outside tsx's namespace.
  const { port1, port2 } = new MessageChannel();
  registerHooks('./asset-module-hooks.js', import.meta.url, {
    data: { target: ENGINE_URL, port: port2 },
    transferList: [port2],
  });
  port1.unref();
  return { importModule: scoped.import, port: port1 };
}

/**
 * Stops the TypeScript compiler's service process that loading asset modules may have
 * started, and waits until it has exited: the CLI calls it before its process ends, so that
 * nothing is left in its process group. Does nothing when no asset module was compiled.
 */
export async function closeAssetModules(): Promise<void> {
  if (!typescript) return;
  const { port } = await typescript;
  port.ref();
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      port.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      port.postMessage('close');
    });
  } finally {
    port.unref();
  }
}
