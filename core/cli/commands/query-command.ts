import type { Json } from '@duckdb/node-api';
import { parseDuration } from '../../model/definitions/duration.ts';
import { UsageError } from '../../model/errors.ts';
import { formatDuration } from '../../model/format/duration-text.js';
import { loadProjectConfig, resolveProjectDir } from '../../engine/project/project-config.ts';
import { queryWarehouse } from '../../engine/ad-hoc-query.ts';
import { parseCommandArgs, positiveInt, refuseVars } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, type Output } from '../output.ts';

const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_LIMIT = 100;

/**
 * `assets query "SQL"`: reads the warehouse with SQL, without the duckdb CLI (the engine's
 * queryWarehouse, core/engine/ad-hoc-query.ts, opens it read-only and reads the rows).
 */
export const queryCommand: Command = {
  name: 'query',
  help: `Usage: assets query "SQL" [--json] [--limit N] [--wait DUR]

Runs one SQL statement against the project's DuckDB warehouse, opened read-only: a statement
that would change it (create, insert, drop, ...) is refused. Prints an aligned table, or with
--json an array of row objects.

  assets query "from marts.daily_revenue_by_location order by day desc limit 5"
  assets query "select count(*) as orders from staging.orders" --json

While a run holds the warehouse, waits for it (up to --wait), then gives up naming the process.

Options:
  --json       print a JSON array of row objects: integers and decimals as numbers when a
               number holds them exactly (else as strings), timestamps as ISO 8601 text
  --limit N    print at most N rows (default ${DEFAULT_LIMIT}); stderr says when there were more
  --wait DUR   how long to wait while another process holds the warehouse: 30s, 2m, 0
               (default ${formatDuration(DEFAULT_WAIT_MS)})

Exit codes: 0 ok; 1 the warehouse stayed busy; 2 bad SQL, a write, or no warehouse yet.`,

  async run(argv, out, err) {
    const { values, positionals } = parseCommandArgs('query', argv, { limit: { type: 'string' }, wait: { type: 'string' } }, true);
    if (positionals.length !== 1 || (positionals[0] as string).trim() === '') {
      throw new UsageError('assets query needs one SQL statement in quotes, e.g. assets query "from marts.fct_sales limit 5"', 'SQL');
    }
    const sql = positionals[0] as string;
    const limit = positiveInt(values.limit, '--limit', DEFAULT_LIMIT);
    const waitMs = values.wait === undefined ? DEFAULT_WAIT_MS : parseDuration(/^\d+$/.test(values.wait) ? Number(values.wait) : values.wait);
    if (waitMs === undefined) throw new UsageError(`--wait must be a duration such as 30s, 2m or 0, got "${values.wait}"`, '--wait');

    refuseVars('query', values, 'it runs SQL on the warehouse as it is, rendering no dbt model');
    const config = loadProjectConfig(resolveProjectDir(values.project));
    const result = await queryWarehouse(config, sql, { limit, waitMs, onWait: (message) => err.line(err.paint('yellow', message)) });
    if (values.json) out.json(result.objects());
    else printTable(out, result.columns, result.rows);
    if (result.truncated) err.line(err.paint('yellow', `only the first ${formatCount(limit)} rows are shown: raise --limit or add LIMIT to the query`));
    return 0;
  },
};

function printTable(out: Output, columns: readonly string[], rows: readonly (readonly (Json | null)[])[]): void {
  out.table(
    [...columns],
    rows.map((row) => row.map(cellText)),
    (_row, _column, cell) => (cell === 'NULL' ? 'gray' : undefined),
  );
  out.line(out.paint('gray', `(${formatCount(rows.length)} row${rows.length === 1 ? '' : 's'})`));
}

/** A value as one table cell: NULL, numbers and text as they are (line breaks as `\\n`), lists and structs as JSON. */
function cellText(value: Json | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\r?\n/g, '\\n');
}
