/**
 * What loading a dbt project computed, kept across processes in the project's `.strata/` folder
 * so a warm load neither renders Jinja nor parses YAML (nor loads nunjucks or the YAML parser):
 * each model's rendering keyed on everything it reads — its template, the macros, the target,
 * the project's name and sources, whether `is_incremental()` is true — and checked against the
 * environment variables and the dbt vars it read (so a var changed by `--vars` renders again only
 * the models whose rendering reads it); each YAML file's parsed value keyed on its text.
 * Only values that survive JSON unchanged are kept, so a cached value is exactly the computed one.
 */
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { z } from 'zod';
import { SqlHashCache } from './sql-hash-cache.ts';
import { strataVersion } from '../package-location.ts';
import type { RenderedModel } from '../dbt/dbt-model-render.ts';
import type { CachedRender, DbtLoadCache, VarsRead } from '../dbt/dbt-load-cache.ts';

/** Bumped when the cache files' layout changes (renderings are also keyed on Strata's version, see {@link DbtFileCache.setRenderSettings}). */
const FORMAT = 2;

const renderSchema = z.object({
  env: z.record(z.string(), z.string().nullable()),
  vars: z.record(z.string(), z.array(z.unknown())),
  text: z.string(),
  configs: z.array(z.record(z.string(), z.unknown())),
  refs: z.array(z.string()),
});

/** The dbt caches of one project folder, in its `.strata/`: renderings and parsed YAML files. */
export class DbtFileCache implements DbtLoadCache {
  readonly #renders: SqlHashCache<CachedRender>;
  readonly #yaml: SqlHashCache<{ value: unknown }>;
  /** Everything a rendering reads besides its template, the incremental flag and the vars. */
  #settings = '';
  /** The vars of this load. */
  #vars: Readonly<Record<string, unknown>> = {};

  /** Opens the cache files of the Strata project in `projectDir`. */
  constructor(projectDir: string) {
    this.#renders = new SqlHashCache(join(projectDir, '.strata', 'dbt-renders.json'), FORMAT, renderSchema as z.ZodType<CachedRender>, (render) =>
      Object.freeze(render),
    );
    this.#yaml = new SqlHashCache(
      join(projectDir, '.strata', 'dbt-yaml.json'),
      FORMAT,
      z.object({ value: z.unknown() }) as z.ZodType<{ value: unknown }>,
      (v) => v,
    );
  }

  /** Sets what every rendering of this load reads besides its template (macros, target, sources…), and the vars of this load. */
  setRenderSettings(settings: unknown, vars: Readonly<Record<string, unknown>>): void {
    // Keyed on Strata's version too: an upgrade that renders differently never reuses an older rendering.
    this.#settings = JSON.stringify({ strata: strataVersion(), settings });
    this.#vars = vars;
  }

  /** The cached rendering of `template`, if its inputs and the environment variables it read are unchanged. */
  render(template: string, incremental: boolean): RenderedModel | undefined {
    const cached = this.#renders.get(this.#renderKey(template, incremental));
    if (cached === undefined) return undefined;
    for (const [name, value] of Object.entries(cached.env)) if ((process.env[name] ?? null) !== value) return undefined;
    for (const [name, read] of Object.entries(cached.vars)) {
      const now = Object.hasOwn(this.#vars, name) ? [this.#vars[name]] : [];
      if (!isDeepStrictEqual(now, read)) return undefined;
    }
    return cached;
  }

  /** Records a rendering and the environment variables and vars it read (not when JSON would change it). */
  storeRender(template: string, incremental: boolean, rendered: RenderedModel, env: Readonly<Record<string, string | null>>, vars: VarsRead): void {
    const value: CachedRender = { env, vars, text: rendered.text, configs: rendered.configs, refs: rendered.refs };
    if (survivesJson(value)) this.#renders.set(this.#renderKey(template, incremental), value);
  }

  /** The parsed value of a YAML file's `text`, parsing it with `parse` when not cached. */
  yaml(text: string, parse: (text: string) => unknown): unknown {
    const cached = this.#yaml.get(text);
    if (cached !== undefined) return cached.value;
    const value = parse(text);
    if (survivesJson({ value })) this.#yaml.set(text, { value });
    return value;
  }

  /** Writes both files; a folder that cannot be written only makes the next load slower. */
  save(): void {
    try {
      this.#renders.save();
      this.#yaml.save();
    } catch {
      // Read-only project folder: nothing to keep.
    }
  }

  #renderKey(template: string, incremental: boolean): string {
    return `${this.#settings}\0${incremental}\0${template}`;
  }
}

function survivesJson(value: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value);
  } catch {
    return false;
  }
}
