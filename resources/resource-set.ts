/**
 * The resources of one run (or one pass of observation): each opened on first use, all closed
 * together at the end.
 */
import { ResourceError } from '../core/model/errors.ts';
import type { ResourceConfig } from '../core/model/config/resources-config.ts';
import { PostgresResource } from './postgres-resource.ts';

/** The resources of strata.json `"resources"`, opened lazily. */
export class ResourceSet {
  readonly #configs: Readonly<Record<string, ResourceConfig>>;
  readonly #env: NodeJS.ProcessEnv;
  readonly #open = new Map<string, PostgresResource>();

  constructor(configs: Readonly<Record<string, ResourceConfig>> | undefined, env: NodeJS.ProcessEnv = process.env) {
    this.#configs = configs ?? {};
    this.#env = env;
  }

  /** The names of the configured resources, sorted. */
  names(): string[] {
    return Object.keys(this.#configs).sort();
  }

  /** Whether strata.json configures a resource `name`. */
  has(name: string): boolean {
    return Object.hasOwn(this.#configs, name);
  }

  /** The resource `name`; a {@link ResourceError} listing the configured ones when there is none. */
  get(name: string): PostgresResource {
    const open = this.#open.get(name);
    if (open) return open;
    const config = this.has(name) ? this.#configs[name] : undefined;
    if (config === undefined) throw unknownResource(name, this.names());
    const resource = new PostgresResource(name, config, this.#env);
    this.#open.set(name, resource);
    return resource;
  }

  /** Closes every resource opened so far. */
  async close(): Promise<void> {
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.allSettled(open.map((r) => r.close()));
  }
}

/** `unknown resource "x"`, with the configured names. */
export function unknownResource(name: string, known: readonly string[]): ResourceError {
  const list = known.length === 0 ? 'strata.json has no "resources"' : `strata.json "resources" has ${known.join(', ')}`;
  return new ResourceError('unknown_resource', `unknown resource "${name}" (${list})`, {}, true);
}
