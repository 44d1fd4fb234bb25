import { UsageError } from '../../model/errors.ts';
import { parseCommandArgs, refuseVars } from '../args.ts';
import type { Command } from '../command.ts';
import { formatCount, type Output } from '../output.ts';
import { migrateStorage, type StorageMigrationReport } from '../../engine/storage-migration/storage-migration.ts';

/** `assets storage migrate --to postgres://…`: moves the project's SQLite storage to Postgres, verified by counts. */
export const storageCommand: Command = {
  name: 'storage',
  help: `Usage: assets storage migrate --to postgres://USER@HOST:PORT/DATABASE [--dry-run] [--json]
       assets storage migrate --to env:NAME ...

Copies the project's SQLite storage (runs, events, materializations, check results, lineage,
backfills, leases, daemon ticks and cursors, observations: every table) into an empty
Postgres database, in one transaction, keeping every id and moving the id sequences past
them. Before committing it compares the row count and a checksum of every table, and the
sequences; if anything differs nothing is committed. Then it prints the counts of both sides
and how to switch the project to Postgres.

Refused (exit 2, nothing written): a run still running on the SQLite storage (its process
heartbeats), a target that already holds Strata rows (it names the tables), a target that
cannot be reached (host, port and database named, never the password), a search_path naming
no existing schema, tables another process keeps locked for 10 s.

Options:
  --to URL     the Postgres database: a postgres:// URL, or env:NAME to read it from the
               variable NAME (keeps the password out of the command line)
  --dry-run    print what would be copied (rows per table); write nothing
  --json       print the report as JSON

Exit codes: 0 copied and verified, 1 the copy did not verify (rolled back), 2 refused.`,

  async run(argv, out, err) {
    const { values, positionals } = parseCommandArgs('storage', argv, { to: { type: 'string' }, 'dry-run': { type: 'boolean' } }, true);
    const [action, ...extra] = positionals;
    if (action !== 'migrate')
      throw new UsageError(
        action === undefined ? 'assets storage needs an action: assets storage migrate --to postgres://…' : `unknown storage action "${action}" (use migrate)`,
        action,
      );
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, extra[0]);
    if (values.to === undefined) throw new UsageError('assets storage migrate needs --to postgres://… (or --to env:NAME)', '--to');
    refuseVars('storage', values, 'it copies the storage, rendering no dbt model');
    const dryRun = values['dry-run'] === true;
    const report = await migrateStorage({
      ...(values.project === undefined ? {} : { project: values.project }),
      to: values.to,
      dryRun,
      onTable: (table, rows) => err.status(`copying ${table} (${formatCount(rows)} rows)…`),
    });
    err.status('');
    if (values.json) out.json(report);
    else print(out, report);
    return report.dryRun || report.verified ? 0 : 1;
  },
};

function print(out: Output, report: StorageMigrationReport): void {
  const tables = [...report.tables].sort((a, b) => (a.table < b.table ? -1 : 1));
  if (report.dryRun) {
    out.line(
      `dry run: would copy ${report.source} to ${report.target}${report.targetHadSchema ? '' : ' (its tables would be created first)'}; nothing written`,
    );
    out.table(
      ['table', 'rows'],
      tables.map((t) => [t.table, formatCount(t.source)]),
    );
    out.line(`total: ${formatCount(report.tables.reduce((sum, t) => sum + t.source, 0))} rows`);
    return;
  }
  out.line(`${report.source} → ${report.target}`);
  out.table(
    ['table', 'sqlite', 'postgres', 'checksum'],
    tables.map((t) => [t.table, formatCount(t.source), formatCount(t.target), t.checksumEqual ? 'equal' : 'DIFFERS']),
    (_row, column, cell) => (column === 3 ? (cell === 'equal' ? 'green' : 'red') : undefined),
  );
  for (const s of report.sequences.filter((s) => s.source !== s.target))
    out.line(out.paint('red', `sequence of ${s.table}.${s.column}: sqlite ${s.source}, postgres ${s.target}`));
  if (!report.verified) {
    out.line(out.paint('red', 'the copy did not verify: it was rolled back, the target holds no rows; nothing changed on the SQLite side'));
    return;
  }
  const rows = report.tables.reduce((sum, t) => sum + t.source, 0);
  out.line(out.paint('green', `copied and verified: ${formatCount(rows)} rows in ${report.tables.length} tables; id sequences continue after the copied ids`));
  out.line();
  out.line('To switch the project to Postgres, put the URL in an environment variable (it holds the password) and either');
  out.line('  set "storage": "env:STRATA_PG" in strata.json (with STRATA_PG=postgres://… in the environment), or');
  out.line('  set STRATA_STORAGE=postgres://… for every assets command.');
  out.line(`The SQLite file is unchanged; once nothing uses it any more you may archive it (${report.source}).`);
}
