/**
 * The loader's side of dbt microbatch models (see core/model/dbt/dbt-microbatch.ts): where a bad
 * microbatch config is written (the line of the model's `config(` call naming it, else the
 * `schema.yml` entry, else the model), the header fields that make the model a partitioned
 * asset, and the `event_time` of each node a microbatch model may ref.
 */
import { dbtMicrobatch, type DbtMicrobatch } from '../../model/dbt/dbt-microbatch.ts';
import type { SqlHeader } from '../../model/definitions/sql-asset-file.ts';
import { incremental, type IncrementalConfig } from '../../model/definitions/incremental-config.ts';
import type { ModelNode } from './dbt-ref-resolution.ts';

/**
 * A model's microbatch batches (`undefined` for another model), and whether its microbatch
 * configs are valid; problems are reported through `fail` at the config's line.
 */
export function microbatchOf(
  node: ModelNode,
  yamlFile: string | undefined,
  fail: (message: string, where?: string) => void,
): { readonly microbatch?: DbtMicrobatch; readonly valid: boolean } {
  const { microbatch, problems } = dbtMicrobatch(node.config);
  for (const problem of problems) fail(problem, configLine(node, problem) ?? yamlFile ?? node.file);
  return { ...(microbatch === undefined ? {} : { microbatch }), valid: problems.length === 0 };
}

/** `file:line` of the model's `config(` line naming the config a problem is about (or any `config(` line). */
function configLine(node: ModelNode, problem: string): string | undefined {
  const lines = node.template.split('\n');
  // The config the problem is about; a missing one: the config( line.
  const named = ['event_time', 'batch_size', 'begin', 'lookback', 'concurrent_batches', 'incremental_strategy'].find(
    (name) => problem.includes(`${name} '`) || problem.includes(`"${name}"`) || problem.includes(`config ${name}`) || problem.startsWith(name),
  );
  let index = named === undefined ? -1 : lines.findIndex((line) => line.includes(named));
  if (index === -1) index = lines.findIndex((line) => /\bconfig\s*\(/.test(line));
  return index === -1 ? undefined : `${node.file}:${index + 1}`;
}

/** The incremental settings of a microbatch model: a batch replaces its window (see IncrementalConfig.microbatch). */
export function microbatchIncremental(microbatch: DbtMicrobatch): IncrementalConfig {
  return Object.freeze({ ...incremental(), microbatch: Object.freeze({ lookback: microbatch.lookback }) });
}

/** A model's header with its batches as partitions (UTC windows, `event_time` the partition column), one step per batch. */
export function withBatches(header: SqlHeader, microbatch: DbtMicrobatch): SqlHeader {
  return Object.freeze({
    ...header,
    partitions: microbatch.partitions,
    partitionColumn: microbatch.eventTime,
    backfillPolicy: { type: 'multi_run' } as const,
  });
}
