/**
 * Type tests of the authoring API (`strata`): what an asset module may write, and that wrong
 * usages are type errors. Checked by `vitest run` (typecheck, see vitest.config.ts) and by `tsc`.
 */
import { describe, expectTypeOf, test } from 'vitest';
import type * as strata from 'strata';
import {
  acceptedValues,
  asset,
  customSql,
  daily,
  eager,
  identity,
  incremental,
  notNull,
  onCron,
  postgresTable,
  rowCountAnomaly,
  schedule,
  SelectionError,
  sourceAsset,
  staticPartitions,
  StrataError,
  timeWindow,
  unique,
} from 'strata';
import type {
  AssetContext,
  AssetDefinition,
  AssetOptions,
  CheckSpec,
  IncrementalConfig,
  IncrementalOptions,
  MaterializeFn,
  MaterializeResult,
  MergeResult,
  ObserveContext,
  PartitionMapping,
  PartitionsDefinition,
  PostgresHandle,
  PostgresStepHandle,
  PostgresTableOptions,
  ScheduleDefinition,
  ScheduleOptions,
  SourceObservation,
  StepPartitions,
} from 'strata';

describe('asset()', () => {
  test('takes AssetOptions and returns an AssetDefinition', () => {
    expectTypeOf(asset).parameters.toEqualTypeOf<[AssetOptions]>();
    expectTypeOf(asset).returns.toEqualTypeOf<AssetDefinition>();
    expectTypeOf(asset({ key: 'raw/orders', materialize: () => undefined }).spec.key).toEqualTypeOf<string>();
  });

  test('materialize receives the AssetContext and returns a MaterializeResult, nothing, or a promise of either', () => {
    expectTypeOf<MaterializeFn>().parameters.toEqualTypeOf<[AssetContext]>();
    expectTypeOf<MaterializeFn>().returns.toEqualTypeOf<Promise<MaterializeResult | void> | MaterializeResult | void>();
    asset({ key: 'raw/a', materialize: () => ({ rowCount: 1, metadata: { file: 'a.csv' }, dataVersion: 'v1' }) });
    asset({ key: 'raw/b', materialize: async () => {} });
  });

  test('options of the wrong shape are type errors', () => {
    // @ts-expect-error: key is required
    asset({ materialize: () => undefined });
    // @ts-expect-error: materialize is required
    asset({ key: 'raw/orders' });
    // @ts-expect-error: rowCount is a number
    asset({ key: 'raw/orders', materialize: () => ({ rowCount: '3' }) });
    // @ts-expect-error: a dependency is a key or { key, mapping }
    asset({ key: 'raw/orders', deps: [42], materialize: () => undefined });
    // @ts-expect-error: partitions come from daily(), staticPartitions(), ...
    asset({ key: 'raw/orders', partitions: '2025-01-01', materialize: () => undefined });
    // @ts-expect-error: backfillPolicy is multi_run or single_run
    asset({ key: 'raw/orders', backfillPolicy: { type: 'all_at_once' }, materialize: () => undefined });
    // @ts-expect-error: checks come from notNull(), unique(), ...
    asset({ key: 'raw/orders', checks: ['not_null(id)'], materialize: () => undefined });
  });

  test('dependencies, partitions, mappings, automation and retries compose', () => {
    asset({
      key: 'marts/daily_revenue',
      deps: ['staging/orders', { key: 'staging/refunds', mapping: timeWindow({ startOffset: -1 }) }],
      partitions: daily({ start: '2025-01-01', timezone: 'Europe/Paris' }),
      partitionColumn: 'day',
      backfillPolicy: { type: 'single_run', maxPartitionsPerRun: 30 },
      automation: onCron('30 4 * * *', 'Europe/Paris'),
      retryPolicy: { maxRetries: 3, delay: '2s', backoff: 'exponential', jitter: true },
      freshnessPolicy: { maxLag: '26h' },
      checks: [notNull('day'), unique(['day'])],
      materialize: () => undefined,
    });
  });

  test('a freshness policy takes maxLag as text or milliseconds, and is read back as maxLagMs', () => {
    expectTypeOf<strata.FreshnessPolicyOptions['maxLag']>().toEqualTypeOf<number | string>();
    expectTypeOf<NonNullable<strata.AssetDefinition['spec']['freshnessPolicy']>>().toEqualTypeOf<strata.FreshnessPolicy>();
    expectTypeOf<strata.FreshnessPolicy>().toEqualTypeOf<{ readonly maxLagMs: number }>();
    // @ts-expect-error: the lag is maxLag
    asset({ key: 'raw/orders', freshnessPolicy: { lag: '26h' }, materialize: () => undefined });
  });
});

describe('the context of materialize', () => {
  test('ctx.warehouse.merge resolves to a MergeResult of counts and the mode', () => {
    expectTypeOf<AssetContext['warehouse']['merge']>().returns.resolves.toEqualTypeOf<MergeResult>();
    expectTypeOf<MergeResult>().toEqualTypeOf<{
      readonly mode: 'incremental' | 'full';
      readonly rowsInserted: number;
      readonly rowsUpdated: number;
      readonly rowsDeleted: number;
      readonly rowCount: number;
    }>();
    expectTypeOf<AssetContext['warehouse']['replaceTable']>().returns.resolves.toBeNumber();
    expectTypeOf<AssetContext['warehouse']['replacePartitions']>().returns.resolves.toBeNumber();
  });

  test('ctx.resources holds Postgres handles that may be missing; ctx.partition may be absent', () => {
    expectTypeOf<AssetContext['resources']>().toEqualTypeOf<Readonly<Record<string, PostgresStepHandle>>>();
    expectTypeOf<PostgresStepHandle>().toExtend<PostgresHandle>();
    expectTypeOf<PostgresStepHandle['extract']>().returns.resolves.toBeNumber();
    expectTypeOf<AssetContext['partition']>().toEqualTypeOf<StepPartitions | undefined>();
    expectTypeOf<StepPartitions['keys']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<AssetContext['watermark']>().toEqualTypeOf<string | null | undefined>();
  });

  test('a materialize function uses them as typed, and misuses are errors', () => {
    asset({
      key: 'raw/orders',
      incremental: incremental({ uniqueKey: 'id', watermark: 'updated_at' }),
      materialize: async (ctx) => {
        const merged = await ctx.warehouse.merge('select 1 as id', { uniqueKey: 'id', strategy: 'delete+insert' });
        expectTypeOf(merged.mode).toEqualTypeOf<'incremental' | 'full'>();
        const rows = await ctx.warehouse.all<{ n: number }>('select count(*) as n from raw.orders');
        expectTypeOf(rows).toEqualTypeOf<{ n: number }[]>();
        expectTypeOf(ctx.resources.shop_db).toEqualTypeOf<PostgresStepHandle | undefined>();
        // @ts-expect-error: the resource may not be in strata.json
        await ctx.resources.shop_db.extract('select * from orders');
        // @ts-expect-error: an unknown merge strategy
        await ctx.warehouse.merge('select 1', { strategy: 'upsert' });
        // @ts-expect-error: an unpartitioned asset has no ctx.partition
        expectTypeOf(ctx.partition.key).toBeString();
        // @ts-expect-error: parameters are SQL values, not objects
        await ctx.warehouse.run('select $1', [{ id: 1 }]);
        // @ts-expect-error: the context is read-only
        ctx.key = 'raw/other';
        return { rowCount: merged.rowCount };
      },
    });
  });
});

describe('incremental()', () => {
  test('takes optional IncrementalOptions and returns the IncrementalConfig with defaults filled in', () => {
    expectTypeOf(incremental).parameters.toEqualTypeOf<[options?: IncrementalOptions]>();
    expectTypeOf(incremental).returns.toEqualTypeOf<IncrementalConfig>();
    expectTypeOf<IncrementalConfig['uniqueKey']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<IncrementalConfig['strategy']>().toEqualTypeOf<'merge' | 'append' | 'delete+insert'>();
    expectTypeOf<IncrementalConfig['onSchemaChange']>().toEqualTypeOf<'fail' | 'append_new_columns' | 'sync_all_columns'>();
  });

  test('unknown settings are errors', () => {
    // @ts-expect-error: not a strategy
    incremental({ strategy: 'upsert' });
    // @ts-expect-error: not an on_schema_change value
    incremental({ onSchemaChange: 'ignore' });
    // @ts-expect-error: uniqueKey is a column or columns
    incremental({ uniqueKey: 1 });
  });
});

describe('source assets', () => {
  test('postgresTable() takes a resource and a table or query, and returns an AssetDefinition', () => {
    expectTypeOf(postgresTable).parameters.toEqualTypeOf<[PostgresTableOptions]>();
    expectTypeOf(postgresTable).returns.toEqualTypeOf<AssetDefinition>();
    postgresTable({ key: 'landing/orders', resource: 'shop_db', table: 'public.orders', watermark: 'updated_at' });
    postgresTable({ key: 'landing/lsn', resource: 'shop_db', query: 'select max(lsn) from orders' });
    // @ts-expect-error: resource is required
    postgresTable({ key: 'landing/orders', table: 'orders' });
    // @ts-expect-error: postgresTable observes the table itself
    postgresTable({ key: 'landing/orders', resource: 'shop_db', table: 'orders', observe: () => [] });
  });

  test('sourceAsset() observes with an ObserveContext and returns SourceObservations', () => {
    sourceAsset({
      key: 'landing/files',
      partitions: staticPartitions(['eu', 'us']),
      observe: async (ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<ObserveContext>();
        expectTypeOf(ctx.partitions).toEqualTypeOf<readonly string[] | null>();
        expectTypeOf(ctx.resources.shop_db).toEqualTypeOf<PostgresHandle | undefined>();
        return [{ partition: 'eu', dataVersion: 'sha256:1' }];
      },
    });
    // @ts-expect-error: an observation needs a dataVersion
    sourceAsset({ key: 'landing/files', observe: () => [{ partition: null }] });
    expectTypeOf<SourceObservation['dataVersion']>().toBeString();
  });
});

describe('checks', () => {
  test('every builder returns a CheckSpec, narrowed by its type', () => {
    expectTypeOf(notNull('id')).toEqualTypeOf<CheckSpec>();
    expectTypeOf(unique).parameter(0).toEqualTypeOf<string | readonly string[]>();
    expectTypeOf(acceptedValues).parameter(1).toEqualTypeOf<readonly (string | number | boolean)[]>();
    const check: CheckSpec = unique(['order_id', 'line']);
    if (check.type === 'unique') expectTypeOf(check.columns).toEqualTypeOf<readonly string[]>();
    if (check.type === 'freshness') expectTypeOf(check.maxAgeMs).toBeNumber();
    expectTypeOf(check.severity).toEqualTypeOf<'warn' | 'error'>();
  });

  test('wrong options are errors', () => {
    // @ts-expect-error: severity is warn or error
    notNull('id', { severity: 'fatal' });
    // @ts-expect-error: a custom SQL check needs a name and a query
    customSql('select * from t where x < 0');
    // @ts-expect-error: customSql takes its name as the first argument, not as an option
    customSql('positive', 'select 1', { name: 'other' });
    // @ts-expect-error: lookback is a number of materializations
    rowCountAnomaly({ lookback: '14' });
  });
});

describe('partitions', () => {
  test('definitions and mappings have their interfaces', () => {
    expectTypeOf(daily({ start: '2025-01-01' })).toExtend<PartitionsDefinition>();
    expectTypeOf(staticPartitions(['eu', 'us'])).toExtend<PartitionsDefinition>();
    expectTypeOf(identity()).toExtend<PartitionMapping>();
    expectTypeOf(timeWindow({ startOffset: -1, endOffset: 0 })).toExtend<PartitionMapping>();
    expectTypeOf<PartitionsDefinition['keys']>().returns.toEqualTypeOf<readonly string[]>();
    expectTypeOf<PartitionsDefinition['type']>().toEqualTypeOf<'time_window' | 'static'>();
  });

  test('wrong options are errors', () => {
    // @ts-expect-error: daily needs a start
    daily({ timezone: 'UTC' });
    // @ts-expect-error: static keys are strings
    staticPartitions([1, 2]);
  });
});

describe('schedule()', () => {
  test('takes ScheduleOptions and returns the frozen ScheduleDefinition', () => {
    expectTypeOf(schedule).parameters.toEqualTypeOf<[ScheduleOptions]>();
    expectTypeOf(schedule).returns.toEqualTypeOf<ScheduleDefinition>();
    expectTypeOf<ScheduleOptions['partition']>().toEqualTypeOf<'latest' | { offset: number } | undefined>();
    expectTypeOf<ScheduleDefinition['partition']>().toEqualTypeOf<{ readonly offset: number } | undefined>();
    schedule({ name: 'nightly', cron: '30 4 * * *', timezone: 'Europe/Paris', selection: 'marts/*', partition: 'latest' });
  });

  test('wrong options are errors', () => {
    // @ts-expect-error: selection is required
    schedule({ name: 'nightly', cron: '@daily' });
    // @ts-expect-error: partition is 'latest' or { offset }
    schedule({ name: 'nightly', cron: '@daily', selection: '*', partition: 'yesterday' });
    // @ts-expect-error: automation conditions are for assets, a schedule has a cron
    schedule({ name: 'nightly', cron: eager(), selection: '*' });
  });
});

describe('errors', () => {
  test('StrataError carries code, context, userError and cause; withContext keeps the subclass', () => {
    expectTypeOf<StrataError['code']>().toBeString();
    expectTypeOf<StrataError['userError']>().toBeBoolean();
    expectTypeOf<StrataError['cause']>().toBeUnknown();
    expectTypeOf(new StrataError('x', 'failed', {}, true, { cause: new Error('inner') })).toEqualTypeOf<StrataError>();
    const selection = new SelectionError('unknown asset "x"', 'x', 0, ['y']);
    expectTypeOf(selection.withContext({ argument: 'select' })).toEqualTypeOf<SelectionError>();
    // @ts-expect-error: context keys are the known ones (assetKey, file, partition, position, argument)
    selection.withContext({ column: 'x' });
  });
});

test('the value exports of strata are exactly these (add to the list when the API grows on purpose)', () => {
  expectTypeOf<keyof typeof strata>().toEqualTypeOf<
    | 'asset'
    | 'alert'
    | 'isAssetDefinition'
    | 'sourceAsset'
    | 'postgresTable'
    | 'incremental'
    | 'allPartitions'
    | 'daily'
    | 'hourly'
    | 'identity'
    | 'monthly'
    | 'staticMapping'
    | 'staticPartitions'
    | 'timeWindow'
    | 'weekly'
    | 'all'
    | 'any'
    | 'eager'
    | 'onCron'
    | 'onMissing'
    | 'AutomationCondition'
    | 'schedule'
    | 'acceptedRange'
    | 'acceptedValues'
    | 'customSql'
    | 'freshness'
    | 'notEmptyString'
    | 'notNull'
    | 'relationships'
    | 'rowCount'
    | 'rowCountAnomaly'
    | 'schema'
    | 'unique'
    | 'keyToTable'
    | 'qualifiedTableName'
    | 'tableToKey'
    | 'ConfigError'
    | 'DefinitionError'
    | 'DefinitionErrors'
    | 'NotFoundError'
    | 'ResourceError'
    | 'SelectionError'
    | 'StrataError'
    | 'UsageError'
  >();
});
