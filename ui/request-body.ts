import type { Request } from 'express';
import type { z } from 'zod';
import { HttpError } from './api-error-handler.ts';
import { parseParams } from './api-params.ts';

/** The largest request body the API reads: every mutation body is a few short strings. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a request's JSON body and validates it against a strict zod object schema. A body
 * that is not `Content-Type: application/json` is HTTP 415, one larger than
 * {@link MAX_BODY_BYTES} 413, malformed JSON 400 `bad_json`; a missing, unknown or mistyped
 * field is a 400 naming it (see {@link parseParams}).
 *
 * @example
 * const { select } = await readJsonBody(req, z.object({ select: z.string() }).strict());
 */
export async function readJsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the body as JSON with the header Content-Type: application/json${type ? ` (got "${type.slice(0, 80)}")` : ''}`,
    );
  }
  const text = await readText(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'bad_json', `the body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'bad_json', 'the body must be a JSON object');
  return parseParams(schema, value, 'body');
}

/** The body as UTF-8 text, refusing (413) more than {@link MAX_BODY_BYTES}. */
function readText(req: Request): Promise<string> {
  const tooLarge = () => new HttpError(413, 'body_too_large', `the body is larger than ${MAX_BODY_BYTES / 1024} kB`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    // Answer at once and drain what the client still sends.
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
