/**
 * What loading a dbt project may take from a cache instead of computing it (the project loader
 * keeps one in the project's `.strata/` folder, see core/engine/project/dbt-load-cache.ts): each
 * model's rendering, keyed on everything it reads and checked against the environment variables
 * and the dbt vars it read, and each YAML file's parsed value, keyed on its text.
 */
import type { RenderedModel } from './dbt-model-render.ts';

/** A rendering, with the environment variables it read (`null`: unset) and the vars it read. */
export interface CachedRender extends RenderedModel {
  readonly env: Readonly<Record<string, string | null>>;
  readonly vars: VarsRead;
}

/** The dbt vars a rendering read, by name: `[value]`, or `[]` for a var not set (its default was used). */
export type VarsRead = Readonly<Record<string, readonly unknown[]>>;

/** A cache of dbt renderings and parsed YAML files. */
export interface DbtLoadCache {
  /**
   * Sets what every rendering of this load reads besides its template (macros, target,
   * sources…), and the vars of this load (a rendering is checked against those it read only).
   */
  setRenderSettings(settings: unknown, vars: Readonly<Record<string, unknown>>): void;
  /** The cached rendering of `template`, if its inputs and the environment variables and vars it read are unchanged. */
  render(template: string, incremental: boolean): RenderedModel | undefined;
  /** Records a rendering and the environment variables and vars it read. */
  storeRender(template: string, incremental: boolean, rendered: RenderedModel, env: Readonly<Record<string, string | null>>, vars: VarsRead): void;
  /** The parsed value of a YAML file's `text`, parsing it with `parse` when not cached. */
  yaml(text: string, parse: (text: string) => unknown): unknown;
  /** Keeps what this load used for the next one. */
  save(): void;
}
