/**
 * Strata errors pass the error they wrap on as `cause` (real DuckDB, real files, a refused
 * socket), and `withArgument` names the argument without losing the error's class, fields,
 * stack or cause. The messages stay what users read: the cause is never part of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../core/cli/args.ts';
import { parseSqlAssetFile } from '../../core/model/definitions/sql-asset-file.ts';
import { ConfigError, DefinitionError, ResourceError, SelectionError, StrataError, UsageError, withArgument } from '../../core/model/errors.ts';
import { daily, PartitionsDefinitionError } from '../../core/model/partitions/index.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';
import { DuckDBWarehouse } from '../../resources/duckdb-warehouse.ts';
import { PostgresResource } from '../../resources/postgres-resource.ts';
import { runQuery } from '../../resources/warehouse-query.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-error-causes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `promise` rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/** What `work` throws (fails the test when it returns). */
function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return expect.fail('expected a throw');
}

describe('StrataError cause', () => {
  it('keeps the cause it is given, and has none when given none or an undefined one', () => {
    const original = new Error('disk full');
    expect(new StrataError('x', 'failed', {}, false, { cause: original }).cause).toBe(original);
    expect('cause' in new StrataError('x', 'failed')).toBe(false);
    expect('cause' in new DefinitionError('x', 'failed', {}, { cause: undefined })).toBe(false);
  });
});

describe('withArgument', () => {
  it('a SelectionError stays a SelectionError with its selection, suggestions, message, stack and cause', () => {
    const cause = new Error('the parser gave up');
    const error = new SelectionError('unknown asset "marts/fct_sale"', '+marts/fct_sale', 1, ['marts/fct_sales']);
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
    const named = withArgument(error, 'select');
    expect(named).toBeInstanceOf(SelectionError);
    expect(named).not.toBe(error);
    expect(named.selection).toBe('+marts/fct_sale');
    expect(named.suggestions).toEqual(['marts/fct_sales']);
    expect(named.message).toBe(error.message);
    expect(named.name).toBe('SelectionError');
    expect(named.code).toBe('selection_invalid');
    expect(named.stack).toBe(error.stack);
    expect(named.cause).toBe(cause);
    expect(named.context).toEqual({ position: 1, argument: 'select' });
  });

  it('leaves the error it was given as it was', () => {
    const error = new UsageError('--limit must be a positive integer, got "x"');
    withArgument(error, 'limit');
    expect(error.context).toEqual({});
  });

  it('a StrataError subclass with fields of its own keeps them and its userError', () => {
    const error = new ResourceError('resource_unreachable', 'cannot connect', { assetKey: 'raw/orders' }, false);
    const named = withArgument(error, 'from');
    expect(named).toBeInstanceOf(ResourceError);
    expect(named.userError).toBe(false);
    expect(named.context).toEqual({ assetKey: 'raw/orders', argument: 'from' });
  });
});

describe('a wrapped error is the cause', () => {
  it("a statement DuckDB rejects: query_failed carries DuckDB's error, its message unchanged", async () => {
    const warehouse = await DuckDBWarehouse.open(':memory:');
    try {
      const error = await rejection(runQuery(warehouse, 'select * from nowhere', 10));
      expect(error).toBeInstanceOf(StrataError);
      const failure = error as StrataError;
      expect(failure.code).toBe('query_failed');
      expect(failure.cause).toBeInstanceOf(Error);
      expect((failure.cause as Error).message).toContain('nowhere');
      expect(failure.message).not.toContain('Failed to extract statements');
      expect(failure.message).toContain('Table with name nowhere does not exist');
    } finally {
      await warehouse.close();
    }
  });

  it("a warehouse DuckDB cannot open: warehouse_open_failed carries DuckDB's error", async () => {
    const notAWarehouse = join(dir, 'not-a-warehouse.duckdb');
    writeFileSync(notAWarehouse, 'this is not a DuckDB file, it is text long enough to have a header');
    const error = (await rejection(DuckDBWarehouse.open(notAWarehouse))) as StrataError;
    expect(error.code).toBe('warehouse_open_failed');
    expect(error.message).toMatch(/^cannot open the DuckDB warehouse .*not-a-warehouse\.duckdb: /);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('a strata.json that is not JSON: the ConfigError carries the SyntaxError', () => {
    const project = mkdtempSync(join(dir, 'project-'));
    writeFileSync(join(project, 'strata.json'), '{ "name": ');
    const error = thrown(() => loadProjectConfig(project)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.message).toBe(`${join(project, 'strata.json')} is not valid JSON: ${(error.cause as Error).message}`);
  });

  it("an unknown flag: the UsageError carries parseArgs's error", () => {
    const error = thrown(() => parseCommandArgs('materialize', ['--frobnicate'], {})) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_PARSE_ARGS_UNKNOWN_OPTION');
    expect(error.message).toMatch(/^assets materialize: Unknown option '--frobnicate' \(see assets materialize --help\)$/);
  });

  it("a bad SQL header value: the DefinitionError carries the parser's error", () => {
    const parsed = parseSqlAssetFile('staging/orders.sql', '-- retries: lots\nselect 1\n');
    expect(parsed.ok).toBe(false);
    const [error] = parsed.ok ? [] : parsed.errors;
    expect(error?.code).toBe('sql_header_invalid');
    expect(error?.cause).toBeInstanceOf(Error);
    expect(error?.message).toBe((error?.cause as Error | undefined)?.message);
  });

  it("an unknown time zone: the PartitionsDefinitionError carries Intl's RangeError", () => {
    const error = thrown(() => daily({ start: '2025-01-01', timezone: 'Mars/Olympus' })) as PartitionsDefinitionError;
    expect(error).toBeInstanceOf(PartitionsDefinitionError);
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.message).toBe('daily partitions: unknown time zone "Mars/Olympus" (expected an IANA name such as UTC or Europe/Berlin)');
  });

  it("a Postgres URL that does not parse: no cause, since URL's error holds the URL and its password", async () => {
    const resource = new PostgresResource('shop_db', { type: 'postgres', url: 'env:SHOP_URL' }, { SHOP_URL: 'postgres://strata:s3cret@[bad/shop' });
    try {
      const error = (await rejection(resource.query('select 1'))) as ResourceError;
      expect(error.code).toBe('resource_invalid');
      expect(error.cause).toBeUndefined();
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('s3cret');
    } finally {
      await resource.close();
    }
  });

  it('a refused Postgres connection: the ResourceError carries the socket error', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const resource = new PostgresResource('down_db', { type: 'postgres', host: '127.0.0.1', port, database: 'shop', user: 'strata' }, {});
    try {
      const error = (await rejection(resource.query('select 1'))) as ResourceError;
      expect(error).toBeInstanceOf(ResourceError);
      expect(error.code).toBe('resource_unreachable');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      await resource.close();
    }
  });
});
