import { describe, expect, it } from 'vitest';
import { assertSnapshotRefresh } from '../../core/model/definitions/snapshot-config.ts';
import { parseSqlAssetFile, sqlAssetDefinition, type SqlAssetFileResult } from '../../core/model/definitions/sql-asset-file.ts';
import { StrataError } from '../../core/model/errors.ts';
import { codeVersionOf } from '../../core/model/definitions/code-version.ts';

function parse(header: string[]): SqlAssetFileResult {
  return parseSqlAssetFile('snapshots/customers.sql', [...header, 'select * from raw.customers'].join('\n'), 'defs/snapshots/customers.sql');
}

function messages(result: SqlAssetFileResult): string[] {
  if (result.ok) throw new Error('expected errors');
  for (const error of result.errors) expect(error.context).toEqual({ assetKey: 'snapshots/customers', file: 'defs/snapshots/customers.sql' });
  return result.errors.map((e) => e.message);
}

describe('snapshot header', () => {
  it('reads unique_key, a timestamp strategy and invalidate_hard_deletes', () => {
    const result = parse([
      '-- materialization: snapshot',
      '-- unique_key: customer_id',
      '-- snapshot_strategy: timestamp(updated_at)',
      '-- invalidate_hard_deletes: true',
    ]);
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    expect(result.header.materialization).toBe('snapshot');
    expect(result.header.snapshot).toEqual({ uniqueKey: ['customer_id'], strategy: { type: 'timestamp', column: 'updated_at' }, invalidateHardDeletes: true });
    const compute = sqlAssetDefinition(result, []).compute;
    expect(compute.type === 'sql' && compute.snapshot?.strategy).toEqual({ type: 'timestamp', column: 'updated_at' });
  });

  it('reads check strategies, a composite key, and defaults to check(all) without hard deletes', () => {
    const chosen = parse(['-- materialization: snapshot', '-- unique_key: region, id', '-- snapshot_strategy: check(name, email)']);
    expect(chosen.ok && chosen.header.snapshot).toEqual({
      uniqueKey: ['region', 'id'],
      strategy: { type: 'check', columns: ['name', 'email'] },
      invalidateHardDeletes: false,
    });
    const all = parse(['-- materialization: snapshot', '-- unique_key: id', '-- snapshot_strategy: CHECK(all)']);
    expect(all.ok && all.header.snapshot?.strategy).toEqual({ type: 'check', columns: 'all' });
    const absent = parse(['-- materialization: snapshot', '-- unique_key: id']);
    expect(absent.ok && absent.header.snapshot?.strategy).toEqual({ type: 'check', columns: 'all' });
  });

  it('refuses a snapshot without unique_key, an unknown strategy and a partitioned snapshot, naming asset and file', () => {
    expect(messages(parse(['-- materialization: snapshot']))).toEqual(['a snapshot needs unique_key: the column(s) identifying a row of the source']);
    expect(messages(parse(['-- materialization: snapshot', '-- unique_key: id', '-- snapshot_strategy: newest(updated_at)']))).toEqual([
      'unknown snapshot_strategy "newest(updated_at)": use timestamp(column), check(column, ...) or check(all)',
    ]);
    expect(messages(parse(['-- materialization: snapshot', '-- unique_key: id', '-- snapshot_strategy: timestamp(a, b)']))[0]).toMatch(/exactly one column/);
    expect(messages(parse(['-- materialization: snapshot', '-- unique_key: id', '-- snapshot_strategy: check()']))[0]).toMatch(/needs the columns/);
    expect(messages(parse(['-- materialization: snapshot', '-- unique_key: id', '-- invalidate_hard_deletes: yes']))).toEqual([
      'invalidate_hard_deletes must be true or false, not "yes"',
    ]);
    const partitioned = messages(
      parse(['-- materialization: snapshot', '-- unique_key: id', '-- partitioned_by: daily(2024-01-01)', '-- partition_column: day']),
    );
    expect(partitioned).toContain('a snapshot keeps the history of a whole table, so it cannot be partitioned: remove partitioned_by');
  });

  it('refuses snapshot fields on other materializations', () => {
    expect(messages(parse(['-- snapshot_strategy: check(all)']))).toEqual(['header field "snapshot_strategy" needs materialization: snapshot']);
    expect(messages(parse(['-- materialization: view', '-- unique_key: id']))[0]).toMatch(/"unique_key" does nothing for materialization: view/);
    expect(messages(parse(['-- materialization: snapshots']))[0]).toBe('materialization must be "table", "view", "snapshot" or "incremental", not "snapshots"');
  });
});

describe('snapshot code version', () => {
  it('changes with the unique key, strategy and hard deletes (header comments alone do not count)', () => {
    const version = (header: string[]) => {
      const result = parse(header);
      if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
      return codeVersionOf(sqlAssetDefinition(result, []));
    };
    const base = ['-- materialization: snapshot', '-- unique_key: customer_id', '-- snapshot_strategy: timestamp(updated_at)'];
    const versions = new Set([
      version(base),
      version([...base, '-- invalidate_hard_deletes: true']),
      version(['-- materialization: snapshot', '-- unique_key: customer_id, region', '-- snapshot_strategy: timestamp(updated_at)']),
      version(['-- materialization: snapshot', '-- unique_key: customer_id', '-- snapshot_strategy: check(all)']),
    ]);
    expect(versions.size).toBe(4);
    expect(version([...base, '-- description: prose'])).toBe(version(base));
  });
});

describe('assertSnapshotRefresh', () => {
  it('passes when every snapshot is forced, and otherwise names the others as a usage error', () => {
    expect(() => assertSnapshotRefresh([], [])).not.toThrow();
    expect(() => assertSnapshotRefresh(['snapshots/customers'], ['snapshots/customers'])).not.toThrow();
    let error: unknown;
    try {
      assertSnapshotRefresh(['snapshots/orders', 'snapshots/customers'], ['snapshots/orders']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).userError).toBe(true);
    expect((error as StrataError).code).toBe('snapshot_refresh_refused');
    expect((error as StrataError).message).toMatch(/history of snapshot snapshots\/customers.*--force snapshots\/customers/);
  });
});
