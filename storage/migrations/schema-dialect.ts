/**
 * What differs between the SQLite and the Postgres DDL of one migration: column types, ids
 * assigned on insert, and tables keyed by their primary key only. Every migration is written
 * once against a {@link SchemaDialect}, so both databases get the same tables, columns and
 * indexes under the same names (people query either the same way).
 */

import { sql } from '../kysely/kysely-runtime.ts';
import type { ColumnDataType, ColumnDefinitionBuilder, CreateTableBuilder, Expression } from 'kysely';

/** A column type: a name kysely knows, or SQL (`text collate "C"`). */
export type DataTypeExpression = ColumnDataType | Expression<unknown>;

/** The databases Strata's storage runs on. */
export type SchemaDialectName = 'sqlite' | 'postgres';

/** How one database spells the schema's column types and table options. */
export interface SchemaDialect {
  readonly name: SchemaDialectName;
  /** A 64-bit integer (epoch milliseconds, counts, ids): SQLite `integer`, Postgres `bigint`. */
  readonly integer: DataTypeExpression;
  /** A floating-point number: SQLite `real`, Postgres `double precision`. */
  readonly real: DataTypeExpression;
  /**
   * Text: SQLite `text`, Postgres `text collate "C"`, so keys sort by code point on both (the
   * order every list and summary is returned in), whatever the database's locale.
   */
  readonly text: DataTypeExpression;
  /** An id the database assigns on insert, increasing: SQLite `integer primary key autoincrement`, Postgres a `bigint` identity. */
  readonly idType: DataTypeExpression;
  id(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Ends a table that is only ever read through its primary key: SQLite `without rowid`; nothing on Postgres. */
  keyedTable<T extends string, C extends string>(table: CreateTableBuilder<T, C>): CreateTableBuilder<T, C>;
}

/** SQLite's spelling: exactly the DDL the migrations wrote before Postgres existed. */
export const SQLITE_SCHEMA: SchemaDialect = Object.freeze({
  name: 'sqlite',
  integer: 'integer',
  real: 'real',
  text: 'text',
  idType: 'integer',
  id: (column: ColumnDefinitionBuilder) => column.primaryKey().autoIncrement(),
  keyedTable: <T extends string, C extends string>(table: CreateTableBuilder<T, C>) => table.modifyEnd(sql`without rowid`),
});

/** Postgres's spelling. */
export const POSTGRES_SCHEMA: SchemaDialect = Object.freeze({
  name: 'postgres',
  integer: 'bigint',
  real: 'double precision',
  text: sql`text collate "C"`,
  idType: 'bigint',
  id: (column: ColumnDefinitionBuilder) => column.primaryKey().generatedByDefaultAsIdentity(),
  keyedTable: <T extends string, C extends string>(table: CreateTableBuilder<T, C>) => table,
});
