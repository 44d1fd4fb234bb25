/**
 * The partition fields of a SQL file's header — `partitioned_by`, `partition_column`,
 * `partition_mapping` and `backfill_policy` — read by the pure parsers and by
 * `parseSqlAssetFile`, which collects every problem with the asset key and file; and the
 * checks of `{{ partition_* }}` template variables against the asset's partitions.
 */
import { describe, expect, it } from 'vitest';
import { parseBackfillPolicy, parseMappingLine, parsePartitionsText } from '../../core/model/definitions/partition-header.ts';
import { parseSqlAssetFile, type ParsedSqlAssetFile, type SqlAssetFileResult } from '../../core/model/definitions/sql-asset-file.ts';
import type { DefinitionError } from '../../core/model/errors.ts';
import { renderForParsing, renderSqlTemplate, templateProblems, templateVariables } from '../../core/model/definitions/sql-template.ts';
import { StaticPartitions, TimeWindowPartitions } from '../../core/model/partitions/index.ts';

const FILE = 'defs/staging/events.sql';

/** Parses `staging/events.sql` with these header lines and a trivial query. */
function parseHeader(...lines: string[]): SqlAssetFileResult {
  return parseSqlAssetFile('staging/events.sql', [...lines, 'select 1 as day'].join('\n'), FILE);
}

function ok(result: SqlAssetFileResult): ParsedSqlAssetFile {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result;
}

function errors(result: SqlAssetFileResult): DefinitionError[] {
  if (result.ok) throw new Error('expected header errors');
  return result.errors;
}

function messages(result: SqlAssetFileResult): string[] {
  return errors(result).map((e) => e.message);
}

const DAILY = '-- partitioned_by: daily(start=2025-01-01)';
const COLUMN = '-- partition_column: day';

describe('partitioned_by', () => {
  it('reads every cadence with start, end, timezone and end_offset', () => {
    const days = parsePartitionsText('daily(start=2025-01-01, end=2026-01-01, timezone=Europe/Paris)');
    expect(days).toBeInstanceOf(TimeWindowPartitions);
    expect(String(days)).toBe('daily(start=2025-01-01, timezone=Europe/Paris, end=2026-01-01)');
    expect(String(parsePartitionsText('hourly(start=2025-01-01-06:00)'))).toBe('hourly(start=2025-01-01-06:00, timezone=UTC)');
    expect(String(parsePartitionsText('weekly(start=2025-01-06, end_offset=1)'))).toBe('weekly(start=2025-01-06, timezone=UTC, end_offset=1)');
    expect(String(parsePartitionsText('monthly(start=2025-01-01, end_offset=-1)'))).toBe('monthly(start=2025-01-01, timezone=UTC, end_offset=-1)');
  });

  it('tolerates spaces, line-end spaces and a trailing comma', () => {
    expect(String(parsePartitionsText('  daily( start = 2025-01-01 ,timezone=UTC, )  '))).toBe('daily(start=2025-01-01, timezone=UTC)');
  });

  it('reads static keys in the order given', () => {
    const regions = parsePartitionsText('static(eu, us, apac)');
    expect(regions).toBeInstanceOf(StaticPartitions);
    expect(regions.keys(new Date())).toEqual(['eu', 'us', 'apac']);
  });

  it.each([
    ['yearly(start=2025-01-01)', 'unknown partitions "yearly" (use hourly, daily, weekly, monthly or static)'],
    ['daily(timezone=UTC)', 'daily(...) needs start=YYYY-MM-DD'],
    ['daily()', 'daily(...) needs start=YYYY-MM-DD'],
    ['daily(start=2025-01-01, timezone=Mars/Olympus)', 'unknown time zone "Mars/Olympus"'],
    ['daily(start=2025-02-30)', 'start "2025-02-30" is not a valid date'],
    ['daily(start=2025-01-01, end=2024-06-01)', 'end 2024-06-01 must be after start 2025-01-01'],
    ['daily(start=2025-01-01, tz=UTC)', 'unknown or invalid setting "tz=UTC"'],
    ['daily(start=2025-01-01, end_offset=one)', 'unknown or invalid setting "end_offset=one"'],
    ['daily(start=2025-01-01, UTC)', '"UTC" should be name=value'],
    ['daily start=2025-01-01', 'is not of the form daily(start=YYYY-MM-DD, ...) or static(a, b)'],
    ['static()', 'static partitions need at least one key'],
    ['static(eu, eu)', 'static partition key "eu" is listed twice'],
    ['static(eu west)', 'static partition key "eu west" is invalid'],
  ])('rejects %s', (text, message) => {
    expect(() => parsePartitionsText(text)).toThrow(message);
  });
});

describe('partition_mapping', () => {
  it.each([
    ['raw/events = identity', 'raw/events', 'identity'],
    ['raw/events=all', 'raw/events', 'all'],
    ['raw/events = window(-6, 0)', 'raw/events', 'window(-6, 0)'],
    ['raw/events = window( -1 )', 'raw/events', 'window(-1, -1)'],
    ['raw/events = window(+0, +1)', 'raw/events', 'window(0, 1)'],
  ])('reads %s', (line, key, mapping) => {
    const parsed = parseMappingLine(line);
    expect(parsed.key).toBe(key);
    expect(String(parsed.mapping)).toBe(mapping);
  });

  it.each([
    ['raw/events window(-6, 0)', 'should be KEY = MAPPING, e.g. raw/orders = window(-6, 0)'],
    ['raw/events = rolling(7)', 'unknown partition mapping "rolling(7)"'],
    ['raw/events = window(1, -1)', 'window(1, -1) is empty'],
    ['raw/events = window(-6, 0', 'unknown partition mapping "window(-6, 0"'],
    ['raw/events =', 'unknown partition mapping ""'],
  ])('rejects %s', (line, message) => {
    expect(() => parseMappingLine(line)).toThrow(message);
  });
});

describe('backfill_policy', () => {
  it('reads multi_run, single_run and single_run(max=N)', () => {
    expect(parseBackfillPolicy('multi_run')).toEqual({ type: 'multi_run' });
    expect(parseBackfillPolicy(' single_run ')).toEqual({ type: 'single_run' });
    expect(parseBackfillPolicy('single_run( max = 31 )')).toEqual({ type: 'single_run', maxPartitionsPerRun: 31 });
  });

  it.each(['singel_run', 'single_run(max=0)', 'single_run(maximum=3)', 'single_run(max=-2)', 'single_run(31)', 'Single_Run', ''])('rejects "%s"', (text) => {
    expect(() => parseBackfillPolicy(text)).toThrow(`backfill_policy must be multi_run, single_run or single_run(max=N), not "${text.trim()}"`);
  });
});

describe('partition fields in a SQL file header', () => {
  it('reads a complete partitioned header into the spec fields', () => {
    const { header } = ok(
      parseHeader(
        '-- partitioned_by: daily(start=2025-01-01, end=2026-01-01, timezone=Europe/Paris)',
        '-- partition_column: business_date',
        '-- partition_mapping: raw/orders = window(-6, 0)',
        '-- partition_mapping: raw/rates = all',
        '-- backfill_policy: single_run(max=31)',
      ),
    );
    expect(String(header.partitions)).toBe('daily(start=2025-01-01, timezone=Europe/Paris, end=2026-01-01)');
    expect(header.partitionColumn).toBe('business_date');
    expect(header.backfillPolicy).toEqual({ type: 'single_run', maxPartitionsPerRun: 31 });
    expect(Object.fromEntries(Object.entries(header.partitionMappings).map(([key, mapping]) => [key, String(mapping)]))).toEqual({
      'raw/orders': 'window(-6, 0)',
      'raw/rates': 'all',
    });
  });

  it('leaves the policy and mappings out when the header does not give them', () => {
    const { header } = ok(parseHeader(DAILY, COLUMN));
    expect(header.backfillPolicy).toBeUndefined();
    expect(header.partitionMappings).toEqual({});
  });

  it('reports a bad partitioned_by with the asset key and file', () => {
    const problems = errors(parseHeader('-- partitioned_by: yearly(start=2025-01-01)', COLUMN));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('sql_header_invalid');
    expect(problems[0]?.message).toContain('unknown partitions "yearly"');
    expect(problems[0]?.context).toEqual({ assetKey: 'staging/events', file: FILE });
  });

  it('requires partition_column on a partitioned asset', () => {
    expect(messages(parseHeader(DAILY))).toEqual(['a partitioned SQL asset needs partition_column: the column whose value places a row in its partition']);
  });

  it('requires partitioned_by for partition_column and backfill_policy', () => {
    expect(messages(parseHeader(COLUMN, '-- backfill_policy: single_run'))).toEqual(['partition_column and backfill_policy need partitioned_by']);
  });

  it('rejects a backfill_policy typo in the value, and suggests the field for a typo in the name', () => {
    expect(messages(parseHeader(DAILY, COLUMN, '-- backfill_policy: singel_run'))).toEqual([
      'backfill_policy must be multi_run, single_run or single_run(max=N), not "singel_run"',
    ]);
    const typo = errors(parseHeader(DAILY, COLUMN, '-- backfil_policy: single_run', '-- partiton_column: day'));
    expect(typo.map((e) => e.code)).toEqual(['sql_header_unknown_field', 'sql_header_unknown_field']);
    expect(typo.map((e) => e.message)).toEqual([
      'unknown header field "backfil_policy" (did you mean "backfill_policy"?)',
      'unknown header field "partiton_column" (did you mean "partition_column"?)',
    ]);
  });

  it('rejects partitioned_by given twice', () => {
    expect(messages(parseHeader(DAILY, '-- partitioned_by: daily(start=2025-02-01)', COLUMN))).toEqual([
      'header field "partitioned_by" is given more than once',
    ]);
  });

  it('reports every bad mapping line, not only the first', () => {
    expect(messages(parseHeader(DAILY, COLUMN, '-- partition_mapping: raw/a window(-1)', '-- partition_mapping: raw/b = rolling(7)'))).toEqual([
      'partition_mapping "raw/a window(-1)" should be KEY = MAPPING, e.g. raw/orders = window(-6, 0)',
      expect.stringContaining('unknown partition mapping "rolling(7)"'),
    ]);
  });

  it('collects the problems of all partition fields of one file together', () => {
    const problems = messages(
      parseHeader(
        '-- partitioned_by: daily(start=2025-01-01, timezone=Nowhere/City)',
        '-- backfill_policy: single_run(max=0)',
        '-- partition_mapping: raw/a = sideways',
      ),
    );
    expect(problems).toHaveLength(4);
    expect(problems.some((m) => m.includes('unknown time zone "Nowhere/City"'))).toBe(true);
    expect(problems.some((m) => m.includes('not "single_run(max=0)"'))).toBe(true);
    expect(problems.some((m) => m.includes('unknown partition mapping "sideways"'))).toBe(true);
    expect(problems.some((m) => m.includes('needs partition_column'))).toBe(true);
  });

  // Bug: describeIssue (core/model/definitions/sql-asset-file.ts) only renames codeVersion, so these
  // name the spec property ("partitionColumn", "partitionMappings") instead of the header field.
  it('names partition_column as written in the file when its value is not a column name', () => {
    expect(messages(parseHeader(DAILY, '-- partition_column: day-1'))).toEqual([
      'header field "partition_column": partition column must be a plain column name',
    ]);
  });

  it('names partition_mapping as written in the file when it names an invalid key', () => {
    const [message] = messages(parseHeader(DAILY, COLUMN, '-- partition_mapping: Raw/Events = identity'));
    expect(message).toMatch(/^header field "partition_mapping": asset key "Raw\/Events" has an invalid segment/);
  });

  // Bug: two lines mapping the same dependency differently are silently accepted (the last wins),
  // while two different values of one tag are an error.
  it('rejects two different mappings for the same dependency', () => {
    const problems = messages(parseHeader(DAILY, COLUMN, '-- partition_mapping: raw/a = identity', '-- partition_mapping: raw/a = window(-6, 0)'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('raw/a');
  });
});

describe('partition template variables', () => {
  it('lists the variables a query uses, once each, in order', () => {
    expect(templateVariables('select {{partition_end}}, {{ partition_start }}, {{ partition_end }}')).toEqual(['partition_end', 'partition_start']);
  });

  it('accepts every variable for time windows and only partition_key for static partitions', () => {
    const sql = 'select {{ partition_key }}, {{ partition_start }}, {{ partition_end }}';
    expect(templateProblems(sql, 'time')).toEqual([]);
    expect(templateProblems('select {{ partition_key }}', 'static')).toEqual([]);
    expect(templateProblems(sql, 'static')).toEqual([
      '{{ partition_start }} needs time-window partitions; static partitions only have {{ partition_key }}',
      '{{ partition_end }} needs time-window partitions; static partitions only have {{ partition_key }}',
    ]);
  });

  it('rejects any variable in an unpartitioned asset', () => {
    expect(templateProblems('select {{ partition_key }}', 'none')).toEqual([
      '{{ partition_key }} is used, but the asset is not partitioned (add partitioned_by)',
    ]);
  });

  it('rejects an unknown variable, listing the known ones', () => {
    expect(templateProblems('select {{ ds }}', 'time')).toEqual([
      'unknown template variable {{ ds }} (use {{ partition_key }}, {{ partition_start }}, {{ partition_end }}, {{ landing }}, {{ project_dir }}, {{ this }}, {{ is_incremental }}, {{ watermark }})',
    ]);
  });

  it('accepts the path variables in any asset and binds them as quoted string literals', () => {
    const sql = "select * from read_csv({{ landing }} || '/x.csv'), read_csv({{project_dir}} || '/y.csv')";
    expect(templateProblems(sql, 'none')).toEqual([]);
    expect(templateProblems(sql, 'static')).toEqual([]);
    expect(renderSqlTemplate(sql, { landing: "/p/o'brien/landing", project_dir: "/p/o'brien" })).toBe(
      "select * from read_csv('/p/o''brien/landing' || '/x.csv'), read_csv('/p/o''brien' || '/y.csv')",
    );
    expect(() => renderSqlTemplate('select {{ landing }}', {})).toThrow('no value for {{ landing }}');
    expect(renderForParsing("select * from read_csv({{ landing }} || '/x.csv')")).toBe("select * from read_csv('/landing' || '/x.csv')");
  });

  it('binds typed literals: a quoted key, dates for midnight bounds, local timestamps otherwise', () => {
    const sql = 'select * from t where k = {{ partition_key }} and ts >= {{partition_start}} and ts < {{ partition_end }}';
    expect(renderSqlTemplate(sql, { partition_key: "it's", partition_start: '2025-01-01 00:00:00', partition_end: '2025-01-02 00:00:00' })).toBe(
      "select * from t where k = 'it''s' and ts >= DATE '2025-01-01' and ts < DATE '2025-01-02'",
    );
    expect(renderSqlTemplate(sql, { partition_key: '2025-01-01-13:00', partition_start: '2025-01-01 13:00:00', partition_end: '2025-01-01 14:00:00' })).toBe(
      "select * from t where k = '2025-01-01-13:00' and ts >= TIMESTAMP '2025-01-01 13:00:00' and ts < TIMESTAMP '2025-01-01 14:00:00'",
    );
    expect(() => renderSqlTemplate('select {{ partition_start }}', { partition_key: 'eu' })).toThrow('no value for {{ partition_start }}');
    expect(() => renderSqlTemplate('select {{ partition_start }}', { partition_key: 'x', partition_start: "1'; drop table t; --" })).toThrow('no value');
  });

  it('renders placeholders DuckDB can parse for dependency inference', () => {
    expect(renderForParsing('select {{ partition_key }}, {{ partition_start }}')).toBe("select 'partition', TIMESTAMP '2000-01-01 00:00:00'");
  });
});
