/**
 * DuckDB's error for a file that is not there ("IO Error: No files found that match the pattern
 * …") says neither which asset read it nor where a relative path was looked for. A step that
 * fails with it fails with {@link missingFileError} instead: the asset, the path as written and
 * the absolute path (relative paths resolve against the project folder).
 */
import { isAbsolute, join } from 'node:path';
import { StrataError } from '../../model/errors.ts';

/** DuckDB messages for a file or glob that matches nothing; the first group is the path as written. */
const MISSING_FILE = [/No files found that match the pattern "([^"]+)"/, /Cannot open file "([^"]+)": No such file or directory/];

/**
 * A `file_missing` error naming `key` and the file when `error` is DuckDB's error for a missing
 * file; `undefined` for any other error.
 *
 * @example
 * missingFileError(new Error('IO Error: No files found that match the pattern "landing/x.csv"'), 'raw/x', '/p');
 * // raw/x reads landing/x.csv, which does not exist (/p/landing/x.csv)
 */
export function missingFileError(error: unknown, key: string, projectDir: string): StrataError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  for (const pattern of MISSING_FILE) {
    const file = pattern.exec(message)?.[1];
    if (file === undefined) continue;
    const absolute = isAbsolute(file) ? file : join(projectDir, file);
    return new StrataError(
      'file_missing',
      `${key} reads ${file}, which does not exist${absolute === file ? '' : ` (${absolute})`}`,
      { assetKey: key, file: absolute },
      false,
      { cause: error },
    );
  }
  return undefined;
}
