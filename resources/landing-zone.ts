import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LandingZone } from '../core/model/definitions/asset-context.ts';

/**
 * A folder where upstream systems drop files (daily CSV/TSV exports and the like).
 *
 * @example
 * const landing = new FileLandingZone('landing');
 * await landing.list('orders_*.csv'); // ['/abs/landing/orders_2026-01-01.csv', ...]
 */
export class FileLandingZone implements LandingZone {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async list(pattern: string): Promise<string[]> {
    const matcher = globToRegExp(pattern);
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => matcher.test(name))
      .sort()
      .map((name) => join(this.dir, name));
  }

  path(name: string): string {
    return join(this.dir, name);
  }
}

/** Converts a file-name glob (`*` any run of characters, `?` one character) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}
