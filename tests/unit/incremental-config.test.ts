import { describe, expect, it } from 'vitest';
import { incremental } from '../../core/model/definitions/incremental-config.ts';
import { parseSqlAssetFile, type SqlAssetFileResult } from '../../core/model/definitions/sql-asset-file.ts';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { renderForParsing, renderSqlTemplate, templateProblems } from '../../core/model/definitions/sql-template.ts';
import { daily } from '../../core/model/partitions/index.ts';
import { codeVersionOf } from '../../core/model/definitions/code-version.ts';
import { sqlAssetDefinition } from '../../core/model/definitions/sql-asset-file.ts';

function messages(result: SqlAssetFileResult): string[] {
  return result.ok ? [] : result.errors.map((e) => e.message);
}

describe('incremental SQL header', () => {
  it('reads unique_key (several columns), strategy, watermark and on_schema_change', () => {
    const text =
      '-- materialization: incremental\n-- unique_key: order_id, line\n-- incremental_strategy: delete+insert\n-- watermark: updated_at\n-- on_schema_change: append_new_columns\nselect 1';
    const result = parseSqlAssetFile('raw/orders.sql', text);
    if (!result.ok) throw new Error(messages(result).join('\n'));
    expect(result.header.materialization).toBe('incremental');
    expect(result.header.incremental).toEqual({
      uniqueKey: ['order_id', 'line'],
      strategy: 'delete+insert',
      watermark: 'updated_at',
      onSchemaChange: 'append_new_columns',
    });
  });

  it('defaults to merge with a unique_key, append without one, and on_schema_change fail', () => {
    const merge = parseSqlAssetFile('raw/a.sql', '-- materialization: incremental\n-- unique_key: id\nselect 1');
    const append = parseSqlAssetFile('raw/b.sql', '-- materialization: incremental\nselect 1');
    expect(merge.ok && merge.header.incremental).toEqual({ uniqueKey: ['id'], strategy: 'merge', onSchemaChange: 'fail' });
    expect(append.ok && append.header.incremental).toEqual({ uniqueKey: [], strategy: 'append', onSchemaChange: 'fail' });
  });

  it('rejects an unknown strategy, naming the asset and file', () => {
    const result = parseSqlAssetFile(
      'raw/orders.sql',
      '-- materialization: incremental\n-- unique_key: id\n-- incremental_strategy: upsert\nselect 1',
      'defs/raw/orders.sql',
    );
    expect(messages(result)).toEqual(['unknown incremental_strategy "upsert" (use merge, append, delete+insert)']);
    expect(result.ok ? undefined : result.errors[0]?.context).toEqual({ assetKey: 'raw/orders', file: 'defs/raw/orders.sql' });
  });

  it('rejects merge without unique_key, an unknown on_schema_change and incremental fields on a table', () => {
    expect(messages(parseSqlAssetFile('raw/a.sql', '-- materialization: incremental\n-- incremental_strategy: merge\nselect 1'))).toEqual([
      'incremental_strategy merge needs unique_key: the columns identifying a row',
    ]);
    expect(messages(parseSqlAssetFile('raw/a.sql', '-- materialization: incremental\n-- on_schema_change: ignore\nselect 1'))).toEqual([
      'unknown on_schema_change "ignore" (use fail, append_new_columns, sync_all_columns)',
    ]);
    expect(messages(parseSqlAssetFile('raw/a.sql', '-- unique_key: id\nselect 1'))).toEqual([
      'header field "unique_key" does nothing for materialization: table (it is for incremental and snapshot)',
    ]);
    expect(messages(parseSqlAssetFile('raw/a.sql', '-- watermark: ts\nselect 1'))).toEqual(['watermark only apply to materialization: incremental']);
  });

  it('incremental() accepts one key column as a string and refuses names that are not columns', () => {
    expect(incremental({ uniqueKey: 'id', watermark: 'ts' })).toEqual({ uniqueKey: ['id'], strategy: 'merge', watermark: 'ts', onSchemaChange: 'fail' });
    expect(() => incremental({ uniqueKey: 'id; drop table x' })).toThrow('"id; drop table x" is not a column name');
  });
});

describe('incremental template variables', () => {
  const INCREMENTAL = { incremental: true, watermark: 'updated_at' };

  it('binds {{ this }}, {{ is_incremental }} and {{ watermark }} as literals', () => {
    const sql = 'select * from raw.o where {{ is_incremental }} and updated_at > {{ watermark }} and id not in (select id from {{ this }})';
    expect(renderSqlTemplate(sql, { this: '"raw"."o"', is_incremental: false, watermark: "CAST('-infinity' AS TIMESTAMP)" })).toBe(
      `select * from raw.o where false and updated_at > CAST('-infinity' AS TIMESTAMP) and id not in (select id from "raw"."o")`,
    );
    expect(renderForParsing('select * from {{ this }} where {{ is_incremental }} and t > {{ watermark }}')).toBe(
      'select * from __strata_this__.this where false and t > NULL',
    );
  });

  it('refuses the incremental variables outside incremental assets, and a watermark declared but unused', () => {
    expect(templateProblems('select * from {{ this }}', 'none')).toEqual([
      '{{ this }} is used, but the asset is not incremental (add materialization: incremental)',
    ]);
    expect(templateProblems('select 1 where t > {{ watermark }}', 'none', { incremental: true })).toEqual([
      '{{ watermark }} is used, but no watermark column is declared (add watermark: <column>)',
    ]);
    expect(templateProblems('select 1', 'none', INCREMENTAL)).toEqual([
      'watermark: updated_at is declared, but the query does not use {{ watermark }} (filter on it, e.g. where updated_at > {{ watermark }})',
    ]);
    expect(templateProblems('select 1 where updated_at > {{ watermark }} and {{ is_incremental }}', 'none', INCREMENTAL)).toEqual([]);
  });

  it('asset() takes a partitioned incremental TypeScript asset with a partitionColumn, and refuses one without', () => {
    const options = { key: 'raw/x', partitions: daily({ start: '2025-01-01' }), incremental: incremental({ uniqueKey: 'id' }), materialize: () => undefined };
    expect(asset({ ...options, partitionColumn: 'day' }).spec.partitionColumn).toBe('day');
    expect(() => asset(options)).toThrow('a partitioned incremental asset needs partitionColumn: the column whose value places a row in its partition');
  });
});

describe('incremental code version', () => {
  it('changes with unique_key, strategy and watermark', () => {
    const version = (header: string) => {
      const result = parseSqlAssetFile('raw/o.sql', `${header}\nselect * from raw.src where t > {{ watermark }}`);
      if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
      return codeVersionOf(sqlAssetDefinition(result, []));
    };
    const base = version('-- materialization: incremental\n-- unique_key: id\n-- watermark: t');
    expect(version('-- materialization: incremental\n-- unique_key: id\n-- watermark: t\n-- prose')).toBe(base);
    expect(version('-- materialization: incremental\n-- unique_key: id, line\n-- watermark: t')).not.toBe(base);
    expect(version('-- materialization: incremental\n-- unique_key: id\n-- incremental_strategy: delete+insert\n-- watermark: t')).not.toBe(base);
  });
});
