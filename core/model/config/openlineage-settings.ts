/**
 * OpenLineage settings (`"openlineage"` in strata.json, and the variables OpenLineage clients
 * read): where Strata sends the OpenLineage run events of its steps, and the namespace of their
 * jobs. `{ "url": "http://…" }` posts them to `<url>/api/v1/lineage`, `{ "file": "path" }`
 * appends them as JSON lines, `{ "console": true }` writes one JSON line per event to stderr.
 * `OPENLINEAGE_URL` (with `OPENLINEAGE_API_KEY` as a bearer token) overrides the file's
 * transport, `OPENLINEAGE_NAMESPACE` its namespace; `OPENLINEAGE_DISABLED=true` turns emission off.
 */

import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** Where OpenLineage events go. */
export type OpenLineageTransportSettings =
  | {
      readonly kind: 'http';
      /** The base URL, without a trailing slash; events go to `<url>/api/v1/lineage`. */
      readonly url: string;
      /** `OPENLINEAGE_API_KEY`, sent as a bearer token. A secret: never print it. */
      readonly apiKey?: string;
    }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'console' };

/** Resolved OpenLineage settings: a transport and the namespace of Strata's jobs. */
export interface OpenLineageSettings {
  readonly transport: OpenLineageTransportSettings;
  /** The namespace of the jobs (default: the project's name). */
  readonly namespace: string;
}

/** The path of the OpenLineage API that takes run events, below the configured URL. */
export const OPENLINEAGE_LINEAGE_PATH = '/api/v1/lineage';

/** The problem with an OpenLineage URL, or `undefined` when it is an http(s) URL. */
export function openLineageUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL: use http://host:port or https://host`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${value}" is not an http(s) URL (OpenLineage events are posted over HTTP)`;
  if (url.username !== '' || url.password !== '') return 'must not hold a user or password: put the API key in OPENLINEAGE_API_KEY';
  return undefined;
}

/** The zod schema of the `"openlineage"` field: one transport (`url`, `file` or `console`) and an optional namespace. */
export const openLineageSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        const problem = openLineageUrlProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    file: z.string().min(1).optional(),
    console: z.boolean({ error: 'must be true or false' }).optional(),
    namespace: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const chosen = (['url', 'file', 'console'] as const).filter((field) => value[field] !== undefined && value[field] !== false);
    if (chosen.length > 1)
      ctx.addIssue({ code: 'custom', path: [chosen[1] as string], message: `only one of url, file and console: ${chosen.join(' and ')} are both set` });
  });

/**
 * The settings a validated `"openlineage"` field and the environment give (`undefined`: no
 * events are sent). `dir` is the project folder, which a relative `file` resolves against;
 * `configFile` names strata.json in errors. An `OPENLINEAGE_URL` that is not http(s) is a
 * {@link ConfigError} naming it.
 */
export function resolveOpenLineage(
  raw: z.infer<typeof openLineageSchema> | undefined,
  defaults: { readonly dir: string; readonly projectName: string; readonly configFile: string },
  env: Readonly<Record<string, string | undefined>>,
): OpenLineageSettings | undefined {
  const envUrl = env.OPENLINEAGE_URL?.trim();
  if (envUrl !== undefined && envUrl !== '') {
    const problem = openLineageUrlProblem(envUrl);
    if (problem !== undefined) throw new ConfigError(`OPENLINEAGE_URL: ${problem}`);
  }
  if (/^(1|true|yes)$/i.test(env.OPENLINEAGE_DISABLED ?? '')) return undefined;
  const apiKey = env.OPENLINEAGE_API_KEY?.trim();
  const http = (url: string): OpenLineageTransportSettings => ({
    kind: 'http',
    url: url.replace(/\/+$/, ''),
    ...(apiKey ? { apiKey } : {}),
  });
  let transport: OpenLineageTransportSettings | undefined;
  if (envUrl !== undefined && envUrl !== '') transport = http(envUrl);
  else if (raw?.url !== undefined) transport = http(raw.url);
  else if (raw?.file !== undefined) transport = { kind: 'file', file: resolve(defaults.dir, raw.file) };
  else if (raw?.console === true) transport = { kind: 'console' };
  if (transport === undefined) return undefined;
  const namespace = env.OPENLINEAGE_NAMESPACE?.trim() || raw?.namespace || defaults.projectName;
  return Object.freeze({ transport: Object.freeze(transport), namespace });
}
