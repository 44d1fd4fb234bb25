import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Whether the engine runs from its build (`dist/`, JavaScript compiled by `npm run build`)
 * rather than from its TypeScript source (under vitest, or the CLI's source fallback). From
 * source, whatever runs the engine also compiles TypeScript; from the build, nothing does.
 */
export const RUNS_COMPILED = import.meta.url.endsWith('.js');

/**
 * The package's own folder (the repository root in a checkout), the same whether the engine
 * runs from source (`core/engine/…`) or from the build (`dist/core/engine/…`): the files that are not
 * compiled live here, such as the bundled example (`assets/`) and the web UI's pages (`ui/static/`).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL(RUNS_COMPILED ? '../../../' : '../../', import.meta.url));

let version: string | undefined;

/** Strata's version, from its package.json (`unknown` when that cannot be read); read once. */
export function strataVersion(): string {
  if (version === undefined) {
    try {
      const parsed = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
      version = typeof parsed.version === 'string' ? parsed.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
