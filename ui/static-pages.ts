import { readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Response, type Router } from 'express';
import { PACKAGE_ROOT } from '../core/engine/package-location.ts';

/** Content types of the files the web UI is made of; any other extension is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
});

/**
 * Headers of every UI response. The CSP allows only same-origin scripts, styles and fetches:
 * no inline script or `style=""` attribute runs, nothing may frame the pages.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
});

/** One path segment of a static file: no dot files, no `..`, no separators or odd characters. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** Where the pages live, and the vendored files served from node_modules. */
export interface StaticPagesOptions {
  /** Folder of index.html and the files under `/static/` (default: the package's ui/static, also when the server runs from the build). */
  readonly root?: string;
}

/**
 * The web pages of `assets ui`: `GET /` is index.html and `GET /static/PATH` a file under
 * ui/static (`/static/vendor/dagre.min.js` is dagre's browser build from node_modules,
 * `/static/shared/duration-text.js`, `write-summary-text.js` and `freshness-text.js` core's formatters). Unknown
 * static files are 404; nothing else is answered (the API behind it handles other paths).
 * Only files whose every path segment is a plain name with a known extension are served, after
 * checking that their real path is inside the root: no traversal, no dot files, no listings.
 *
 * @example
 * const app = express();
 * app.use(staticPages());
 * app.use(createApiApp(workspace));
 */
export function staticPages(options: StaticPagesOptions = {}): Router {
  const root = path.resolve(options.root ?? path.join(PACKAGE_ROOT, 'ui', 'static'));
  const vendor: Readonly<Record<string, string>> = {
    'vendor/dagre.min.js': dagreBrowserBuild(),
    // The duration formatter the CLI uses too: one file, so both show the same text.
    'shared/duration-text.js': path.join(PACKAGE_ROOT, 'core', 'model', 'format', 'duration-text.js'),
    // Likewise the text of what an incremental or snapshot write did.
    'shared/write-summary-text.js': path.join(PACKAGE_ROOT, 'core', 'model', 'format', 'write-summary-text.js'),
    // And an asset's freshness (`ok`, `overdue 3h`), which imports the duration formatter beside it.
    'shared/freshness-text.js': path.join(PACKAGE_ROOT, 'core', 'model', 'format', 'freshness-text.js'),
  };
  const realRoot = realpath(root).catch(() => root);

  const router = express.Router({ caseSensitive: true, strict: true });

  router.get('/', (_req, res) => void sendFile(res, path.join(root, 'index.html'), realRoot));

  router.get('/static/*file', (req, res) => {
    const segments = (req.params as Record<string, unknown>).file;
    const parts = Array.isArray(segments) ? segments.map(String) : [String(segments)];
    const relative = parts.join('/');
    const vendored = vendor[relative];
    if (vendored !== undefined) return void sendFile(res, vendored, undefined);
    if (!parts.every((p) => SEGMENT.test(p))) return notFound(res);
    void sendFile(res, path.join(root, ...parts), realRoot);
  });

  // Anything else under /static (e.g. `/static` itself, or a method other than GET/HEAD).
  router.all(['/static', '/static/*rest'], (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') return notFound(res);
    res.set(PAGE_HEADERS).set('Allow', 'GET, HEAD').status(405).type('text/plain').send('method not allowed');
  });
  return router;
}

/** Sends one file if it is a regular file with a known extension inside `within` (when given). */
async function sendFile(res: Response, file: string, within: Promise<string> | undefined): Promise<void> {
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
  if (!type) return notFound(res);
  try {
    const real = await realpath(file);
    if (within) {
      const base = await within;
      if (!real.startsWith(base + path.sep)) return notFound(res);
    }
    if (!(await stat(real)).isFile()) return notFound(res);
    const body = await readFile(real);
    res.removeHeader('X-Powered-By');
    res.set(PAGE_HEADERS).type(type).send(body);
  } catch {
    notFound(res);
  }
}

function notFound(res: Response): void {
  if (res.headersSent) return;
  res.removeHeader('X-Powered-By');
  res.set(PAGE_HEADERS).status(404).type('text/plain').send('not found');
}

/** The path of dagre's self-contained browser build (it defines `window.dagre`). */
function dagreBrowserBuild(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry points, so locate the package by its package.json.
  return path.join(path.dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.min.js');
}
