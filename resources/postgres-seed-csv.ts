/**
 * Seeds on a Postgres warehouse: a CSV file copied (COPY … FROM STDIN, through pg-copy-streams)
 * into a temporary table of text columns, whose columns are then typed as told or as their values
 * read (integers, numbers, booleans, dates, timestamps, else text), as DuckDB's CSV reader does.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { Row } from '../core/model/definitions/asset-context.ts';
import { quoteIdentifier } from '../core/model/definitions/asset-key.ts';
import { quoteLiteral } from '../core/model/definitions/sql-template.ts';

/** What loading needs of the step session. */
interface SeedSession {
  run(sql: string): Promise<void>;
  all<T extends Row = Row>(sql: string): Promise<T[]>;
}

/** The first type whose pattern every value of a column matches (NULLs aside). */
const DETECTED: readonly (readonly [string, string])[] = [
  ['BIGINT', '^\\s*-?\\d{1,18}\\s*$'],
  ['DOUBLE PRECISION', '^\\s*-?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$'],
  ['BOOLEAN', '^\\s*(true|false|TRUE|FALSE|True|False)\\s*$'],
  ['DATE', '^\\d{4}-\\d\\d-\\d\\d$'],
  ['TIMESTAMP', '^\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?$'],
];

/** DuckDB's words for types a seed may name that Postgres spells otherwise. */
const POSTGRES_WORDS: Readonly<Record<string, string>> = { DOUBLE: 'DOUBLE PRECISION', FLOAT: 'REAL', HUGEINT: 'NUMERIC', TINYINT: 'SMALLINT' };

/**
 * Copies `file` into a temporary table of the step's transaction (dropped at its end) and returns
 * the SELECT reading its rows typed: `columnTypes` fix some types, the others are detected.
 */
export async function loadCsv(session: SeedSession, client: pg.PoolClient, file: string, columnTypes: Readonly<Record<string, string>>): Promise<string> {
  const header = parseCsvLine(firstLine(file));
  const staged = quoteIdentifier(`strata_seed_${randomBytes(4).toString('hex')}`);
  await session.run(`CREATE TEMP TABLE ${staged} (${header.map((c) => `${quoteIdentifier(c)} text`).join(', ')}) ON COMMIT DROP`);
  const { from } = await import('pg-copy-streams');
  await pipeline(createReadStream(file), client.query(from(`COPY pg_temp.${staged} FROM STDIN WITH (FORMAT csv, HEADER true)`)));
  const untyped = header.filter((c) => columnTypes[c] === undefined);
  const detected = new Map<string, string>();
  if (untyped.length > 0) {
    const tests = untyped.flatMap((c, i) => DETECTED.map(([, pattern], j) => `bool_and(${quoteIdentifier(c)} ~ ${quoteLiteral(pattern)}) AS t${i}_${j}`));
    const [row] = await session.all(`SELECT ${tests.join(', ')} FROM pg_temp.${staged}`);
    untyped.forEach((c, i) => detected.set(c, DETECTED.find((_, j) => row?.[`t${i}_${j}`] === true)?.[0] ?? 'TEXT'));
  }
  const typed = header.map((c) => {
    const given = columnTypes[c];
    const type = given === undefined ? (detected.get(c) ?? 'TEXT') : (POSTGRES_WORDS[given.toUpperCase()] ?? given);
    return `CAST(${quoteIdentifier(c)} AS ${type}) AS ${quoteIdentifier(c)}`;
  });
  return `SELECT ${typed.join(', ')} FROM pg_temp.${staged}`;
}

/** The first line of a file (its header), read without loading the file. */
function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    return text.split(/\r?\n/)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

/** The fields of one CSV line (commas, double quotes, `""` inside quotes). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}
