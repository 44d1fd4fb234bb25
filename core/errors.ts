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

/** Base class of all Strata errors. `userError` errors map to exit code 2 / HTTP 400. */
export class StrataError extends Error {
  readonly code: string;
  readonly context: ErrorContext;
  readonly userError: boolean;

  constructor(code: string, message: string, context: ErrorContext = {}, userError = true) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
    this.userError = userError;
  }
}

/** `error` again, naming the `argument` (CLI option or API field) the user gave the bad value through. */
export function withArgument(error: StrataError, argument: string): StrataError {
  return new StrataError(error.code, error.message, { ...error.context, argument }, error.userError);
}

/** One problem found while loading definitions (a project may have many). */
export class DefinitionError extends StrataError {
  constructor(code: string, message: string, context: ErrorContext = {}) {
    super(code, message, context);
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
    super(
      'definitions_invalid',
      `${errors.length} definition error${errors.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
    );
    this.errors = errors;
  }
}

/** A selection string that does not parse or names something that does not exist. */
export class SelectionError extends StrataError {
  constructor(message: string, readonly selection: string, position?: number, readonly suggestions: readonly string[] = []) {
    super('selection_invalid', message, position === undefined ? {} : { position });
  }
}

/** A bad command-line argument or API parameter. */
export class UsageError extends StrataError {
  constructor(message: string, argument?: string) {
    super('usage', message, argument === undefined ? {} : { argument });
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
  constructor(message: string, file?: string) {
    super('config_invalid', message, file === undefined ? {} : { file });
  }
}

/**
 * A resource (a database of strata.json `"resources"`) that cannot be used: a variable not set,
 * a refused connection, a failing query. The message names the resource, host, port and
 * database, never a password.
 */
export class ResourceError extends StrataError {
  constructor(code: string, message: string, context: ErrorContext = {}, userError = false, options?: { cause?: unknown }) {
    super(code, message, context, userError);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Prefixes a message with the asset key and file it concerns. */
export function formatLocated(error: StrataError): string {
  const where = [error.context.assetKey, error.context.file].filter(Boolean).join(' in ');
  return where ? `${where}: ${error.message}` : error.message;
}
