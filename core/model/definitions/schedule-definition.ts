/**
 * Schedules: a cron expression in an IANA time zone that materializes a selection, optionally
 * only the latest complete partition at the tick (or one a few windows before it). Declared in a
 * project's TypeScript modules with {@link schedule}; the loader collects every exported one and
 * checks its selection against the graph; the daemon evaluates them.
 */
import { z } from 'zod';
import { DefinitionError } from '../errors.ts';
import { formatZodIssues } from './asset-spec.ts';
import { cronProblem } from './cron-expression.ts';

/**
 * Which partitions of the partitioned assets a schedule tick materializes: the latest complete
 * partition at the tick, shifted by `offset` windows (`-1` = the one before it). Static
 * partitions have no "latest": a tick builds all of their keys.
 */
export interface SchedulePartition {
  readonly offset: number;
}

/** A validated, frozen schedule. */
export interface ScheduleDefinition {
  readonly name: string;
  /** Cron expression: 5 fields (minute first), 6 (seconds first), or `@daily`-style. */
  readonly cron: string;
  /** IANA time zone the cron is read in (default UTC). */
  readonly timezone: string;
  /** Asset selection, in the `--select` syntax. */
  readonly selection: string;
  /** Absent: every partition of the selected partitioned assets. */
  readonly partition?: SchedulePartition;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Project-relative module the schedule was declared in (set by the loader). */
  readonly file?: string;
}

/** What {@link schedule} accepts. */
export interface ScheduleOptions {
  name: string;
  cron: string;
  timezone?: string;
  /** e.g. `'marts/*'`, `'+marts/fct_sales'`. */
  selection: string;
  /** `'latest'` (the latest complete partition at the tick) or `{ offset: -1 }` (the one before). */
  partition?: 'latest' | { offset: number };
  description?: string;
  /** Tags put on the runs the schedule starts. */
  tags?: Readonly<Record<string, string>>;
}

/** Marks schedule objects so the loader can find them among a module's exports. */
const SCHEDULE_DEFINITION = Symbol.for('strata.scheduleDefinition');

const optionsSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'schedule names use letters, digits, _ . -'),
    cron: z.string().min(1),
    timezone: z.string().min(1).default('UTC'),
    selection: z.string().trim().min(1, 'selection must not be empty'),
    partition: z.union([z.literal('latest'), z.object({ offset: z.number().int().max(0, 'offset must be 0 or negative (past windows)') }).strict()]).optional(),
    description: z.string().optional(),
    tags: z.record(z.string().regex(/^[A-Za-z0-9_.\-/]+$/, 'tag names use letters, digits, _ . - /'), z.string().max(256)).default({}),
  })
  .strict();

/**
 * Declares a schedule. Export it from any TypeScript module of the project.
 *
 * @example
 * export const nightlyMarts = schedule({
 *   name: 'nightly_marts',
 *   cron: '30 4 * * *',
 *   timezone: 'Europe/Paris',
 *   selection: 'marts/*',
 *   partition: 'latest', // at 04:30 the latest complete daily partition is yesterday
 * });
 */
export function schedule(options: ScheduleOptions): ScheduleDefinition {
  const name = typeof options?.name === 'string' ? options.name : '?';
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError('schedule_invalid', `schedule "${name}": ${formatZodIssues(parsed.error)}`);
  const { partition, description, ...rest } = parsed.data;
  const problem = cronProblem(rest.cron, rest.timezone);
  if (problem) throw new DefinitionError('schedule_invalid', `schedule "${name}": ${problem}`);
  return makeSchedule({
    ...rest,
    tags: Object.freeze({ ...rest.tags }),
    ...(partition === undefined ? {} : { partition: Object.freeze(partition === 'latest' ? { offset: 0 } : { offset: partition.offset }) }),
    ...(description === undefined ? {} : { description }),
  });
}

/** Freezes and brands a schedule (the loader re-makes it with its file). */
export function makeSchedule(definition: ScheduleDefinition, file?: string): ScheduleDefinition {
  const value = { ...definition, ...(file === undefined ? {} : { file }) };
  Object.defineProperty(value, SCHEDULE_DEFINITION, { value: true });
  return Object.freeze(value);
}

/** True for values produced by {@link schedule}. */
export function isScheduleDefinition(value: unknown): value is ScheduleDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCHEDULE_DEFINITION] === true;
}
