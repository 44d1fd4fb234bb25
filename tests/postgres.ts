/**
 * The real Postgres of the tests: `tests/postgres-cluster.sh` starts a throw-away cluster and
 * exports STRATA_TEST_POSTGRES_URL (`.ci/run` does it; by hand: `source tests/postgres-cluster.sh start`).
 */
import { createServer } from 'node:net';
import pg from 'pg';

const VARIABLE = 'STRATA_TEST_POSTGRES_URL';

/** Why the Postgres tests cannot run here, or `undefined` when they can; under `CI=true` a missing server throws. */
export function postgresMissing(): string | undefined {
  if (process.env[VARIABLE]) return undefined;
  const reason = `${VARIABLE} is not set (start a cluster: source tests/postgres-cluster.sh start); .ci/run sets it`;
  // Locally the Postgres tests may skip, saying why; under CI they must run.
  if (process.env.CI === 'true') throw new Error(`CI=true and the Postgres tests cannot run: ${reason}`);
  return reason;
}

/** The test cluster's URL (`postgres://user:password@127.0.0.1:port/db`); throws when there is none. */
export function postgresUrl(): string {
  const url = process.env[VARIABLE];
  if (!url) throw new Error(`${VARIABLE} is not set`);
  return url;
}

/** The test cluster's URL with `schema` first on the search path (a test file's own tables). */
export function postgresSchemaUrl(schema: string): string {
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Runs statements on the test cluster with a client of its own (fixtures: create, fill, update tables). */
export async function onPostgres(...statements: string[]): Promise<void> {
  await withClient(async (client) => {
    for (const sql of statements) await client.query(sql);
  });
}

/** Runs one query on the test cluster with a client of its own and returns its rows (cast counts to `int` to get numbers). */
export async function postgresRows<T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
  return withClient(async (client) => (await client.query<T>(sql, params as unknown[])).rows);
}

/** The rows of `sql` on the database at `url` (a test's own database on the cluster). */
export async function postgresRowsAt(url: string, sql: string): Promise<Record<string, unknown>[]> {
  return withClient(async (client) => (await client.query(sql)).rows, url);
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>, url = postgresUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A port nothing listens on (taken, then freed): for connection errors. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
