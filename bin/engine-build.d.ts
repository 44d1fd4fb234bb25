/** The package's folder. */
export declare const ROOT: string;
/** The compiled engine's folder. */
export declare const DIST: string;
/** The compiled CLI's entry point (dist/core/cli/main.js). */
export declare const COMPILED_CLI: string;
/** Whether dist/ holds a build of the source as it is now. */
export declare function buildIsCurrent(): Promise<boolean>;
/** Compiles the engine into a clean dist/ and stamps it; throws when tsc reports errors. */
export declare function buildEngine(options?: { readonly quiet?: boolean }): Promise<void>;
/** Builds the engine unless dist/ is current. */
export declare function ensureEngineBuilt(options?: { readonly quiet?: boolean }): Promise<void>;
