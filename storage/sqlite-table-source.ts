/**
 * A SQLite storage file read table by table, for copying it elsewhere (`assets storage
 * migrate`): opened read-only, every read inside one read transaction (one consistent snapshot
 * even if another process writes meanwhile), tables and columns read from the file's own schema
 * (so a table a migration adds is copied without anyone listing it), in an order where every
 * table comes after the tables its foreign keys name.
 */

import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { migrations } from './migrations/index.ts';
import { quoteIdentifier as quote } from '../core/model/definitions/asset-key.ts';
import { StorageMigrationError } from '../core/model/errors.ts';

/** One table of the storage schema, as a copy needs it. */
export interface StorageTable {
  readonly name: string;
  /** Column names in the table's order. */
  readonly columns: readonly string[];
  /** Tables its foreign keys name. */
  readonly references: readonly string[];
}

/** A run the source holds as `running`, with what tells whether its process is alive. */
export interface RunningRunRow {
  readonly id: string;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly heartbeatAt: number | null;
  readonly pid: number | null;
}

/** Rows handed out per batch by {@link SqliteTableSource.batches}. */
const BATCH_ROWS = 5_000;

/** Tables that are SQLite's or the migrator's bookkeeping, not Strata's data. */
const BOOKKEEPING = /^(sqlite_|kysely_)/;

/**
 * The tables of a SQLite storage file, read-only.
 *
 * @example
 * const source = SqliteTableSource.open('.strata/strata.db');
 * for (const table of source.tables()) console.log(table.name, source.count(table.name));
 * source.close();
 */
export class SqliteTableSource {
  readonly file: string;
  readonly #sqlite: BetterSqlite3.Database;
  #tables: StorageTable[] | undefined;

  private constructor(file: string, sqlite: BetterSqlite3.Database) {
    this.file = file;
    this.#sqlite = sqlite;
  }

  /**
   * Opens `file` read-only and starts the snapshot every later read sees. A missing file, or
   * one whose schema is not exactly this Strata's, is a `StorageError` naming it.
   */
  static open(file: string): SqliteTableSource {
    if (!fs.existsSync(file)) throw new StorageMigrationError('migration_source_invalid', `there is no SQLite storage at ${file}: nothing to migrate`);
    let sqlite: BetterSqlite3.Database;
    try {
      sqlite = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      sqlite.pragma('busy_timeout = 5000');
      sqlite.exec('begin');
    } catch (error) {
      throw new StorageMigrationError('migration_source_invalid', `cannot read the SQLite storage at ${file}: ${(error as Error).message}`, { cause: error });
    }
    const source = new SqliteTableSource(file, sqlite);
    try {
      source.#checkSchemaVersion();
      return source;
    } catch (error) {
      source.close();
      throw error;
    }
  }

  /** Refuses a file not migrated to exactly this Strata's schema (older: open it once to upgrade; newer: upgrade Strata). */
  #checkSchemaVersion(): void {
    const known = Object.keys(migrations);
    let applied: string[];
    try {
      applied = this.#sqlite.prepare('select name from kysely_migration order by name').pluck().all() as string[];
    } catch (error) {
      throw new StorageMigrationError('migration_source_invalid', `${this.file} is not a Strata storage (it has no migration table)`, { cause: error });
    }
    const ours = known.at(-1) ?? '';
    const theirs = applied.at(-1) ?? '(none)';
    if (applied.some((name) => !known.includes(name)))
      throw new StorageMigrationError(
        'migration_source_invalid',
        `the SQLite storage ${this.file} has schema version ${theirs}, newer than this Strata's ${ours}: upgrade Strata first`,
      );
    if (applied.length !== known.length)
      throw new StorageMigrationError(
        'migration_source_invalid',
        `the SQLite storage ${this.file} has schema version ${theirs}, older than this Strata's ${ours}: open it once with this Strata (e.g. assets runs) to upgrade it, then migrate`,
      );
  }

  /** The names of the schema's migrations applied to the file (all of this Strata's). */
  schemaVersion(): string {
    return Object.keys(migrations).at(-1) ?? '';
  }

  /** Strata's tables in the file, each after the tables it references (ties by name). */
  tables(): readonly StorageTable[] {
    this.#tables ??= this.#readTables();
    return this.#tables;
  }

  #readTables(): StorageTable[] {
    const names = (this.#sqlite.prepare(`select name from sqlite_master where type = 'table' order by name`).pluck().all() as string[]).filter(
      (name) => !BOOKKEEPING.test(name),
    );
    const tables = names.map((name): StorageTable => {
      const columns = (this.#sqlite.pragma(`table_info(${quote(name)})`) as { name: string }[]).map((c) => c.name);
      const references = [...new Set((this.#sqlite.pragma(`foreign_key_list(${quote(name)})`) as { table: string }[]).map((f) => f.table))];
      return { name, columns, references: references.filter((r) => r !== name) };
    });
    return referencedFirst(tables);
  }

  /** The number of rows of `table`. */
  count(table: string): number {
    return (this.#sqlite.prepare(`select count(*) as n from ${quote(table)}`).get() as { n: number }).n;
  }

  /** The rows of `table` (values in its column order), in batches of at most {@link BATCH_ROWS}, by rowid. */
  *batches(table: StorageTable): Generator<unknown[][]> {
    const statement = this.#sqlite.prepare(`select ${table.columns.map(quote).join(', ')} from ${quote(table.name)}`).raw(true);
    let batch: unknown[][] = [];
    for (const row of statement.iterate() as Iterable<unknown[]>) {
      batch.push(row);
      if (batch.length === BATCH_ROWS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** The AUTOINCREMENT counters (`sqlite_sequence`): table → highest id ever assigned. */
  sequences(): Map<string, number> {
    const rows = this.#sqlite.prepare('select name, seq from sqlite_sequence').all() as { name: string; seq: number }[];
    return new Map(rows.map((r) => [r.name, r.seq]));
  }

  /** The runs whose status is `running`, oldest first. */
  runningRuns(): RunningRunRow[] {
    return this.#sqlite
      .prepare(
        `select id, created_at as createdAt, started_at as startedAt, heartbeat_at as heartbeatAt, pid from runs where status = 'running' order by created_at, id`,
      )
      .all() as RunningRunRow[];
  }

  /** Ends the snapshot and closes the file. */
  close(): void {
    if (this.#sqlite.inTransaction) this.#sqlite.exec('commit');
    this.#sqlite.close();
  }
}

/** `tables` ordered so each comes after those it references; ties (and cycles) by name. */
function referencedFirst(tables: readonly StorageTable[]): StorageTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: StorageTable[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (table: StorageTable) => {
    if (placed.has(table.name) || visiting.has(table.name)) return;
    visiting.add(table.name);
    for (const name of [...table.references].sort()) {
      const referenced = byName.get(name);
      if (referenced) place(referenced);
    }
    visiting.delete(table.name);
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => (a.name < b.name ? -1 : 1))) place(table);
  return ordered;
}
