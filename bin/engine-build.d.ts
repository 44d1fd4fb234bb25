/** The package's folder. */
export declare const ROOT: string;
/** The compiled CLI's entry point (dist/core/cli/main.js). */
export declare const COMPILED_CLI: string;
/** Where to build, and whether to say so. */
export interface BuildOptions {
  /** The package folder (default: this package's). */
  readonly root?: string;
  /** Print nothing on success. */
  readonly quiet?: boolean;
}
/** Whether dist/ under `root` (default: this package) holds a build of the source as it is now. */
export declare function buildIsCurrent(root?: string): Promise<boolean>;
/** Compiles the engine into a clean dist/ and stamps it; throws when tsc reports errors. */
export declare function buildEngine(options?: BuildOptions): Promise<void>;
/** Builds the engine unless dist/ is current. */
export declare function ensureEngineBuilt(options?: BuildOptions): Promise<void>;
