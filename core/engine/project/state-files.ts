import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../model/errors.ts';

/** Where a state file's path came from, for messages: `STRATA_STORAGE` or `"storage" in /p/strata.json`. */
export interface StateFileSource {
  readonly label: string;
  /** The strata.json that named the path, when it did. */
  readonly configFile?: string;
}

/**
 * Checks, writing nothing, that the storage or warehouse `file` can be opened (and created)
 * there: it is not a folder, no existing part of its path is a file, and the folder that will
 * hold it (or the nearest existing one, where the missing folders will be created) is writable,
 * as is the file itself if it exists. Throws a {@link ConfigError} naming the path and `source`.
 *
 * @example
 * checkStateFile('/tmp', { label: 'STRATA_STORAGE' }, 'strata.db');
 * // ConfigError: STRATA_STORAGE is /tmp, a folder: name a file, e.g. /tmp/strata.db
 */
export function checkStateFile(file: string, source: StateFileSource, exampleName: string): void {
  const fail = (problem: string) => {
    throw new ConfigError(`${source.label} is ${file}, ${problem}`, source.configFile);
  };
  const stats = statIfAny(file);
  if (stats?.isDirectory()) fail(`a folder: name a file, e.g. ${join(file, exampleName)}`);
  if (stats && !canWrite(file)) fail('a file this process cannot write');
  let folder = dirname(file);
  let found = statIfAny(folder);
  while (!found && dirname(folder) !== folder) {
    folder = dirname(folder);
    found = statIfAny(folder);
  }
  if (found && !found.isDirectory()) fail(`but ${folder} is a file, not a folder`);
  if (found && !canWrite(folder)) fail(`but this process cannot write in ${folder}`);
}

function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
