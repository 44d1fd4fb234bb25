/**
 * Named errors for Strata. Every error a user can cause derives from {@link StrataError}
 * and carries a stable `code` plus the context that locates it (asset key, file, position).
 * The CLI and the HTTP server translate them to exit codes and statuses in one place each.
 */

/** Context that locates an error for the user. */
export interface ErrorContext {
  readonly assetKey?: string;
  readonly file?: string;
  readonly partition?: string;
  readonly position?: number;
  readonly argument?: string;
}

/**
 * Base class of all Strata errors. `userError` errors map to exit code 2 / HTTP 400. An error
 * that wraps another passes it as `options.cause` (ES2022 `Error` options; an undefined cause is
 * left out), so logs and debuggers see the original; messages shown to users never include it.
 *
 * @example
 * try { JSON.parse(text) } catch (error) { throw new StrataError('bad_json', `${file} is not JSON`, { file }, true, { cause: error }) }
 */
export class StrataError extends Error {
  readonly code: string;
  readonly context: ErrorContext;
  readonly userError: boolean;

  constructor(code: string, message: string, context: ErrorContext = {}, userError = true, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
    this.userError = userError;
  }

  /**
   * This error again with `context` added to its context: the same class, fields, message, stack
   * and cause (the error itself is left as it was).
   */
  withContext(context: ErrorContext): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.defineProperties(copy, Object.getOwnPropertyDescriptors(this));
    // The stack as text: an engine may keep it behind an accessor that only reads the original.
    Object.defineProperty(copy, 'stack', { value: this.stack, writable: true, configurable: true });
    Object.defineProperty(copy, 'context', { value: { ...this.context, ...context }, writable: true, enumerable: true, configurable: true });
    return copy;
  }
}

/** `error` again (same class and fields), naming the `argument` (CLI option or API field) the user gave the bad value through. */
export function withArgument<E extends StrataError>(error: E, argument: string): E {
  return error.withContext({ argument });
}

/** One problem found while loading definitions (a project may have many). */
export class DefinitionError extends StrataError {
  constructor(code: string, message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(code, message, context, true, options);
  }
}

/**
 * All definition problems of a project, collected before reporting.
 *
 * @example
 * try { await loadProject(dir) } catch (e) { if (e instanceof DefinitionErrors) console.error(e.message) }
 */
export class DefinitionErrors extends StrataError {
  readonly errors: readonly DefinitionError[];

  constructor(errors: readonly DefinitionError[]) {
    const lines = errors.map((e) => `  - ${formatLocated(e)}`);
    super('definitions_invalid', `${errors.length} definition error${errors.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.errors = errors;
  }
}

/** A selection string that does not parse or names something that does not exist. */
export class SelectionError extends StrataError {
  constructor(
    message: string,
    readonly selection: string,
    position?: number,
    readonly suggestions: readonly string[] = [],
  ) {
    super('selection_invalid', message, position === undefined ? {} : { position });
  }
}

/** A bad command-line argument or API parameter. */
export class UsageError extends StrataError {
  constructor(message: string, argument?: string, options?: ErrorOptions) {
    super('usage', message, argument === undefined ? {} : { argument }, true, options);
  }
}

/** A missing thing the user asked for by id or key (run id, asset key). */
export class NotFoundError extends StrataError {
  constructor(message: string, context: ErrorContext = {}) {
    super('not_found', message, context);
  }
}

/** A project configuration file that is missing or invalid. */
export class ConfigError extends StrataError {
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super('config_invalid', message, file === undefined ? {} : { file }, true, options);
  }
}

/**
 * A resource (a database of strata.json `"resources"`) that cannot be used: a variable not set,
 * a refused connection, a failing query. The message names the resource, host, port and
 * database, never a password.
 */
export class ResourceError extends StrataError {
  constructor(code: string, message: string, context: ErrorContext = {}, userError = false, options?: ErrorOptions) {
    super(code, message, context, userError, options);
  }
}

/** Prefixes a message with the asset key and file it concerns. */
export function formatLocated(error: StrataError): string {
  const where = [error.context.assetKey, error.context.file].filter(Boolean).join(' in ');
  return where ? `${where}: ${error.message}` : error.message;
}

/** Stable codes of {@link StorageMigrationError}. */
export type StorageMigrationErrorCode =
  /** The SQLite storage to copy is missing, unreadable, or not at this Strata's schema version. */
  | 'migration_source_invalid'
  /** A run of the source is still running (its process heartbeats): copying now would lose what it writes next. */
  | 'migration_source_busy'
  /** The target database already holds Strata rows. */
  | 'migration_target_not_empty'
  /** The target has no schema to create tables in (its search path names none that exists). */
  | 'migration_target_invalid'
  /** Another process holds locks on the target's tables (it is writing them). */
  | 'migration_target_busy'
  /** The target's tables or columns are not the source's. */
  | 'migration_schema_mismatch'
  /** Postgres refused a row while copying (exit 1): the transaction was rolled back. */
  | 'migration_copy_failed';

/**
 * Why `assets storage migrate` refused to copy a storage (exit code 2), or why its copy failed
 * (`migration_copy_failed`, exit code 1); either way no row was written.
 *
 * @example
 * throw new StorageMigrationError('migration_target_not_empty', 'the target holds 3 rows in runs');
 */
export class StorageMigrationError extends StrataError {
  declare readonly code: StorageMigrationErrorCode;

  constructor(code: StorageMigrationErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, {}, code !== 'migration_copy_failed', options);
  }
}
