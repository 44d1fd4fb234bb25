import type { NextFunction, Request, Response } from 'express';
import { DefinitionError, DefinitionErrors, NotFoundError, SelectionError, StrataError, UsageError } from '../core/model/errors.ts';

/** The body of every error response. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    /** The query or path parameter, or body field, at fault, when one is. */
    readonly parameter?: string;
    /** "Did you mean" candidates of a selection error. */
    readonly suggestions?: readonly string[];
  };
}

/**
 * An error about the HTTP request itself (credentials, content type, body size, JSON syntax)
 * that carries its status: 401, 403, 413, 415 or 400.
 *
 * @example
 * throw new HttpError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
 */
export class HttpError extends StrataError {
  readonly status: number;

  constructor(status: number, code: string, message: string, options?: ErrorOptions) {
    super(code, message, {}, true, options);
    this.status = status;
  }
}

/** An HTTP status and body for an error: the one place errors become statuses. */
export function errorResponse(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  // The run launcher says so once the server is closing.
  if (error instanceof StrataError && error.code === 'shutting_down') return { status: 503, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof NotFoundError) return { status: 404, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof SelectionError) {
    return { status: 400, body: { error: { code: error.code, message: error.message, parameter: 'select', suggestions: error.suggestions } } };
  }
  if (error instanceof UsageError) {
    const parameter = error.context.argument;
    return { status: 400, body: { error: { code: error.code, message: error.message, ...(parameter ? { parameter } : {}) } } };
  }
  if (error instanceof DefinitionError || error instanceof DefinitionErrors)
    return { status: 400, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof StrataError && error.userError) {
    const parameter = error.context.argument;
    return { status: 400, body: { error: { code: error.code, message: error.message, ...(parameter ? { parameter } : {}) } } };
  }
  // Errors express raises for the request itself (malformed URL encoding, …) carry a 4xx status.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: { code: status === 404 ? 'not_found' : 'bad_request', message: status === 404 ? 'not found' : 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error (see the server log)' } } };
}

/**
 * Express error middleware: answers with {@link errorResponse}, never a stack trace, and
 * reports unexpected (500) errors to `log`.
 */
export function apiErrorHandler(log: (error: unknown) => void, redact: <T>(value: T) => T) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, body } = errorResponse(error);
    if (status >= 500) log(error);
    res.status(status).json(redact(body));
  };
}
