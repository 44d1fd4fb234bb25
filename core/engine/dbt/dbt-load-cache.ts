/**
 * What loading a dbt project may take from a cache instead of computing it (the project loader
 * keeps one in the project's `.strata/` folder, see core/engine/project/dbt-load-cache.ts): each
 * model's rendering, keyed on everything it reads and checked against the environment variables
 * it read, and each YAML file's parsed value, keyed on its text.
 */
import type { RenderedModel } from './dbt-model-render.ts';

/** A rendering, with the environment variables it read (`null`: unset). */
export interface CachedRender extends RenderedModel {
  readonly env: Readonly<Record<string, string | null>>;
}

/** A cache of dbt renderings and parsed YAML files. */
export interface DbtLoadCache {
  /** Sets what every rendering of this load reads besides its template (macros, vars, target, sources…). */
  setRenderSettings(settings: unknown): void;
  /** The cached rendering of `template`, if its inputs and the environment variables it read are unchanged. */
  render(template: string, incremental: boolean): RenderedModel | undefined;
  /** Records a rendering and the environment variables it read. */
  storeRender(template: string, incremental: boolean, rendered: RenderedModel, env: Readonly<Record<string, string | null>>): void;
  /** The parsed value of a YAML file's `text`, parsing it with `parse` when not cached. */
  yaml(text: string, parse: (text: string) => unknown): unknown;
  /** Keeps what this load used for the next one. */
  save(): void;
}
