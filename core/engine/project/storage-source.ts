/**
 * Reading `"storage"` / `STRATA_STORAGE` into a location: `env:NAME` read from the
 * environment, a `postgres://` URL kept as a URL (checked, never quoted in a message: it may
 * hold a password), anything else a SQLite file path (relative to the project folder).
 */

import { ConfigError } from '../../model/errors.ts';
import { ENV_PREFIX } from '../../model/config/resources-config.ts';
import { isPostgresUrl, postgresUrlProblem, type StorageLocation } from '../../model/config/storage-settings.ts';
import type { StateFileSource } from './state-files.ts';

/**
 * The storage `value` names (`source` says where it came from, for messages). The file of a
 * SQLite location is as written, not yet resolved against the project folder.
 *
 * @example
 * resolveStorage('env:STRATA_DB_URL', { label: 'STRATA_STORAGE' }, { STRATA_DB_URL: 'postgres://db/strata' })
 * // { kind: 'postgres', url: 'postgres://db/strata' }
 */
export function resolveStorage(value: string, source: StateFileSource, env: NodeJS.ProcessEnv): StorageLocation {
  let resolved = value;
  let label = source.label;
  if (value.startsWith(ENV_PREFIX)) {
    const name = value.slice(ENV_PREFIX.length);
    const found = env[name];
    if (found === undefined || found === '')
      throw new ConfigError(`${source.label} is "${value}" but the environment variable ${name} is not set`, source.configFile);
    resolved = found;
    label = `${name} (${source.label})`;
  }
  if (!isPostgresUrl(resolved)) return { kind: 'sqlite', file: resolved };
  const problem = postgresUrlProblem(resolved);
  if (problem !== undefined) throw new ConfigError(`${label}: ${problem}`, source.configFile);
  return { kind: 'postgres', url: resolved };
}
