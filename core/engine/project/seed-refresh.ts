/**
 * Seeds edited while a long-lived process (the daemon) runs: a seed's code version is the hash
 * of its file, computed when the project loads, so a process that loaded the project earlier
 * would go on seeing the old content. {@link SeedRefresher} re-hashes the seed files that
 * changed since it last looked and gives the project with their new hashes.
 */
import { readFileSync, statSync } from 'node:fs';
import { makeDefinition, type AssetDefinition } from '../../model/definitions/asset-spec.ts';
import { contentHashOf } from '../../model/definitions/seed-asset.ts';
import { buildProject, type Project } from '../../model/project.ts';

/** What a seed file looked like when it was last hashed. */
interface SeenFile {
  readonly mtimeMs: number;
  readonly size: number;
}

/**
 * Keeps a project's seeds in step with their files. The first {@link refresh} hashes every seed
 * file; later ones stat each (nothing more when none changed) and hash only those whose
 * modification time or size moved since. When a content hash differs, the project is rebuilt
 * with the new seed definitions (so new code versions: the seed and its downstream are stale).
 * A seed file that is gone or unreadable keeps its definition: the seed's step fails naming the
 * file. New seed files need a new project load (a restart).
 *
 * @example
 * const seeds = new SeedRefresher();
 * project = seeds.refresh(project); // at every daemon tick
 */
export class SeedRefresher {
  readonly #seen = new Map<string, SeenFile>();

  /** `project` itself when no seed changed, else the project rebuilt with the new seed hashes. */
  refresh(project: Project): Project {
    const changed = new Map<string, AssetDefinition>();
    for (const [key, definition] of project.definitions) {
      const compute = definition.compute;
      if (compute.type !== 'seed') continue;
      const now = look(compute.path);
      const before = this.#seen.get(compute.path);
      if (now === undefined || (before && before.mtimeMs === now.mtimeMs && before.size === now.size)) continue;
      let contentHash: string;
      try {
        contentHash = contentHashOf(readFileSync(compute.path));
      } catch {
        continue;
      }
      this.#seen.set(compute.path, now);
      if (contentHash !== compute.contentHash) changed.set(key, makeDefinition(definition.spec, { ...compute, contentHash }, definition.file));
    }
    if (changed.size === 0) return project;
    const definitions = [...project.definitions.values()].map((d) => changed.get(d.spec.key) ?? d);
    // strata.json's alert rules come with the config again; the modules' are passed on.
    const declared = project.alerts.filter((rule) => !project.config.alerts?.includes(rule));
    return buildProject(project.config, definitions, project.schedules, declared);
  }
}

function look(path: string): SeenFile | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? { mtimeMs: stat.mtimeMs, size: stat.size } : undefined;
}
