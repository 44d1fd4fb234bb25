/**
 * The pure mapping of dbt microbatch configs onto Strata partitions: batch sizes as UTC cadences
 * starting at the batch that holds `begin` (a string, or the Date an unquoted YAML date may be),
 * up to the batch in progress; `lookback` defaults to 1; the batch filter of event_time refs.
 */
import { describe, expect, it } from 'vitest';
import { mergeModelConfig } from '../../core/model/dbt/dbt-config.ts';
import { batchFilteredRelation, dbtMicrobatch } from '../../core/model/dbt/dbt-microbatch.ts';

const microbatch = (configs: Record<string, unknown>) =>
  dbtMicrobatch(mergeModelConfig([{ materialized: 'incremental', incremental_strategy: 'microbatch', event_time: 'at', ...configs }]).config);

describe('dbt microbatch configs', () => {
  it('hour, day and month batches are UTC partitions from the batch holding begin, up to the one in progress', () => {
    const now = new Date('2025-03-02T10:30:00Z');
    const hourly = microbatch({ begin: '2025-03-02 07:45:00', batch_size: 'hour' }).microbatch;
    expect(hourly?.partitions.keys(now)).toEqual(['2025-03-02-07:00', '2025-03-02-08:00', '2025-03-02-09:00', '2025-03-02-10:00']);
    expect(hourly?.partitions.localWindow('2025-03-02-07:00')).toEqual({ start: '2025-03-02 07:00:00', end: '2025-03-02 08:00:00' });
    const daily = microbatch({ begin: '2025-02-27T23:00:00Z', batch_size: 'day' }).microbatch;
    expect(daily?.partitions.keys(now)).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
    const monthly = microbatch({ begin: new Date('2025-01-15T00:00:00Z'), batch_size: 'month' }).microbatch;
    expect(monthly?.partitions.keys(now)).toEqual(['2025-01-01', '2025-02-01', '2025-03-01']);
    expect(daily).toMatchObject({ eventTime: 'at', batchSize: 'day', lookback: 1 });
    expect(microbatch({ begin: '2025-01-01', batch_size: 'day', lookback: 0, concurrent_batches: true, unique_key: 'id' })).toMatchObject({
      microbatch: { lookback: 0 },
      problems: [],
    });
  });

  it('other models have no batches; event_time alone is fine on them, the other microbatch configs are not', () => {
    expect(dbtMicrobatch(mergeModelConfig([{ materialized: 'table', event_time: 'at' }]).config)).toEqual({ problems: [] });
    expect(dbtMicrobatch(mergeModelConfig([{ materialized: 'incremental', batch_size: 'day', begin: '2025-01-01' }]).config).problems).toEqual([
      "config begin, batch_size only applies to incremental_strategy='microbatch'",
    ]);
    expect(microbatch({ begin: '2025-01-01 25:00', batch_size: 'day', concurrent_batches: 'yes', event_time: 'a b' }).problems).toEqual([
      'config "event_time" must name a column',
      "begin '2025-01-01 25:00' is not a date or timestamp (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC)",
      'config "concurrent_batches" must be true or false',
    ]);
  });

  it('a ref with event_time reads the batch window of its relation', () => {
    expect(batchFilteredRelation('"staging"."events"', 'occurred_at')).toBe(
      '(select * from "staging"."events" where "occurred_at" >= {{ partition_start }} and "occurred_at" < {{ partition_end }})',
    );
  });
});
