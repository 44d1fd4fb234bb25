import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './api-error-handler.ts';

/** Who may change things through the API (see {@link mutationGuard}). */
export interface MutationGuardOptions {
  /** A secret that `Authorization: Bearer TOKEN` must carry (`assets ui --token`); none by default. */
  readonly token?: string | undefined;
  /** True when the server listens on a loopback address only. */
  readonly loopbackBound: boolean;
}

/**
 * Refuses non-GET/HEAD requests unless they are allowed to change things. With a token
 * configured, `Authorization: Bearer TOKEN` passes (compared in constant time) and a wrong one
 * is 401. Otherwise the request passes only when the server is bound to loopback and the
 * request is same-origin (`Origin` equal to `http://` + its `Host`, or `Sec-Fetch-Site:
 * same-origin`): a page of another site cannot launch runs. Anything else is 401 when a token
 * is configured (credentials missing), else 403.
 *
 * @example
 * app.use('/api', mutationGuard({ token: process.env.STRATA_UI_TOKEN, loopbackBound: true }));
 */
export function mutationGuard(options: MutationGuardOptions): RequestHandler {
  const expected = options.token ? digest(options.token) : undefined;
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const authorization = req.headers.authorization;
    if (expected && authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (match && timingSafeEqual(digest(match[1] as string), expected)) return next();
      return next(new HttpError(401, 'unauthorized', 'the Authorization header does not carry the token assets ui was started with'));
    }
    if (options.loopbackBound && isSameOrigin(req.headers.origin, req.headers.host, req.headers['sec-fetch-site'])) return next();
    if (expected) {
      return next(
        new HttpError(
          401,
          'unauthorized',
          'send the header Authorization: Bearer TOKEN with the token assets ui was started with (--token or STRATA_UI_TOKEN), or use the UI page',
        ),
      );
    }
    const why = options.loopbackBound
      ? 'changes are accepted only from the UI page itself (same origin): use the UI page, or start assets ui with --token and send Authorization: Bearer TOKEN'
      : 'this server listens beyond this machine without a token, so it refuses changes: start assets ui with --token (or STRATA_UI_TOKEN) and send Authorization: Bearer TOKEN';
    next(new HttpError(403, 'forbidden', why));
  };
}

/** True when the request comes from a page served by this very origin. */
function isSameOrigin(origin: string | undefined, host: string | undefined, fetchSite: string | string[] | undefined): boolean {
  if (fetchSite === 'same-origin') return true;
  return origin !== undefined && host !== undefined && origin.toLowerCase() === `http://${host}`.toLowerCase();
}

/** Fixed-length digests, so the comparison takes the same time whatever the lengths. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
