import { type Dirent, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DefinitionError } from '../../model/errors.ts';
import { compareKeys } from '../../model/collections/key-compare.ts';

/**
 * The asset source files under the assets folder `root`, sorted: every `.sql` file and every
 * `.ts`/`.mts` module but `*.test.ts`, `*.spec.ts` and `*.d.ts`, skipping names that start with
 * `.` and `node_modules`. Symbolic links are followed, to files and to folders, and their
 * assets are keyed by where the link is. A link to a folder it is inside of (which would be
 * walked forever) and a link to nothing are definition errors naming the link, pushed on
 * `errors`; `projectDir` makes their paths relative.
 */
export function listSourceFiles(root: string, errors: DefinitionError[], projectDir: string): string[] {
  const located = (path: string) => relative(projectDir, path).split(sep).join('/') || path;
  if (!statIfAny(root)?.isDirectory()) {
    errors.push(new DefinitionError('assets_dir_missing', `the assets folder does not exist`, { file: located(root) }));
    return [];
  }
  const files: string[] = [];
  // `inside`: the real paths of the folders being walked, from the root down to `dir`.
  const walk = (dir: string, inside: readonly string[]) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      errors.push(
        new DefinitionError(
          'assets_dir_unreadable',
          `cannot read this folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          { file: located(dir) },
          { cause: error },
        ),
      );
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        const target = resolve(dirname(path), readlinkSync(path));
        const stats = statIfAny(path);
        if (!stats) {
          errors.push(new DefinitionError('symlink_broken', `symbolic link to ${target}, which does not exist`, { file: located(path) }));
        } else if (stats.isDirectory()) {
          const real = realpathSync(path);
          if (inside.includes(real)) {
            errors.push(
              new DefinitionError('symlink_loop', `symbolic link to ${target}, a folder it is inside of: it would be loaded forever (remove the link)`, {
                file: located(path),
              }),
            );
          } else walk(path, [...inside, real]);
        } else if (stats.isFile() && isSourceFile(entry.name)) files.push(path);
      } else if (entry.isDirectory()) walk(path, [...inside, join(inside.at(-1) as string, entry.name)]);
      else if (entry.isFile() && isSourceFile(entry.name)) files.push(path);
    }
  };
  walk(root, [realpathSync(root)]);
  return files.sort(compareKeys);
}

function isSourceFile(name: string): boolean {
  if (name.endsWith('.sql')) return true;
  return /\.(ts|mts)$/.test(name) && !/\.(d|test|spec)\.m?ts$/.test(name);
}

/** The file's stats, following links; `undefined` when nothing is there. */
function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
