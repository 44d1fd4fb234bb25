/**
 * The source database of the example: a connection to the Postgres named by SHOP_DB_URL, for the
 * two scripts that create the shop and change it. The shop's tables live in the schema `shop`.
 */
import pg from 'pg';

/**
 * Runs `work` with a client connected to SHOP_DB_URL, in one transaction (all or nothing). Without
 * the variable it exits 2; when Postgres fails it prints Postgres's message and exits 1.
 */
export async function withShopDb(work: (db: pg.Client) => Promise<void>): Promise<void> {
  const url = process.env.SHOP_DB_URL;
  if (!url) {
    console.error('SHOP_DB_URL is not set: export SHOP_DB_URL=postgres://user:password@host:5432/database');
    process.exit(2);
  }
  const db = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' });
  try {
    await db.connect();
    await db.query('begin');
    await work(db);
    await db.query('commit');
  } catch (error) {
    await db.query('rollback').catch(() => undefined);
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Runs one statement and returns how many rows it wrote. */
export async function write(db: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  return (await db.query(sql, params)).rowCount ?? 0;
}
