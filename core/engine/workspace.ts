import { loadProject } from './project/project-loader.ts';
import type { Project } from '../model/project.ts';
import { resolveProjectDir } from './project/project-config.ts';
import { storageLocation } from '../model/config/project-config.ts';
import type { RunService } from './runs/run-service.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import type { Storage } from '../../storage/storage.ts';
import { parseDbtVars } from './dbt/dbt-cli-vars.ts';

/** Which project to load, as the command line chose it. */
export interface ProjectChoice {
  /** `--project DIR` (default: `STRATA_PROJECT`, the current folder, or the bundled example). */
  readonly project?: string | undefined;
  /** `--vars YAML`: dbt vars overriding those of `dbt_project.yml`. */
  readonly vars?: string | undefined;
}

/**
 * A loaded project plus the storage it uses and the run service that holds its warehouse,
 * each loaded on first need so that read-only commands never touch DuckDB.
 */
export class Workspace {
  readonly project: Project;
  #storage: Promise<Storage> | undefined;
  #storageCode: Promise<typeof import('../../storage/index.ts')> | undefined;
  #runs: Promise<RunService> | undefined;

  private constructor(project: Project) {
    this.project = project;
  }

  /**
   * Loads the project chosen by `--project`, `STRATA_PROJECT`, the current folder or the bundled
   * example, its dbt models rendered with `--vars` (a UsageError when they are not a YAML mapping,
   * or the project has no dbt project). `withStorage` loads the storage code first (not opening the file: bad input must
   * write nothing), for commands that will almost surely need it: once the compiled engine has
   * imported a project's TypeScript modules, every module loaded after them goes through Node's
   * module-hooks thread, a round trip each (kysely alone has ~260).
   */
  static async load(choice: ProjectChoice, options: { readonly withStorage?: boolean } = {}): Promise<Workspace> {
    const dbtVars = choice.vars === undefined ? undefined : parseDbtVars(choice.vars);
    const storageCode = options.withStorage ? Promise.resolve(await import('../../storage/index.ts')) : undefined;
    const workspace = new Workspace(await loadProject(resolveProjectDir(choice.project), dbtVars === undefined ? {} : { dbtVars }));
    workspace.#storageCode = storageCode;
    return workspace;
  }

  storage(): Promise<Storage> {
    // Imported on first use: `assets list` needs neither SQLite nor DuckDB, and loading them costs ~150 ms each.
    this.#storage ??= (this.#storageCode ?? import('../../storage/index.ts')).then(({ openStorage }) => openStorage(storageLocation(this.project.config)));
    return this.#storage;
  }

  /**
   * The engine's run service for this project (one per workspace): it reaps dead runs and holds
   * the warehouse around runs, telling `notice` about dead runs it marked failed and about a
   * warehouse another process holds.
   */
  runService(notice: (message: string) => void): Promise<RunService> {
    this.#runs ??= Promise.all([import('./runs/run-service.ts'), import('./runs/run-observers.ts')]).then(([{ RunService }, { projectRunObservers }]) => {
      const storage = () => this.storage();
      return new RunService({
        project: this.project,
        storage,
        landing: this.landing(),
        notice,
        observers: projectRunObservers(this.project, { storage, notice }),
      });
    });
    return this.#runs;
  }

  landing(): FileLandingZone {
    return new FileLandingZone(this.project.config.landingDir);
  }

  /** Flushes the run service's observers (at most 2 s), closes it, then the storage. */
  async close(): Promise<void> {
    if (this.#runs) await (await this.#runs).close();
    if (this.#storage) await (await this.#storage.catch(() => undefined))?.close();
  }
}
