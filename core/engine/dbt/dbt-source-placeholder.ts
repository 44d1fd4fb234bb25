/**
 * What `source()` prints for a source table with `event_time`: a placeholder carrying its
 * relation and `event_time` (hex-encoded, so a rendering cached as text keeps them), resolved
 * once the model is known to be microbatch or not (see dbt-ref-resolution.ts).
 */

/** Matches the placeholders of a rendered text (global: use with replace or matchAll). */
export const SOURCE_PLACEHOLDER = /__strata_dbt_source_([0-9a-f]+)__/g;

/** What a placeholder carries. */
export interface PlacedSource {
  /** The quoted, qualified table. */
  readonly relation: string;
  readonly eventTime: string;
  /** The table's name in its source (`source('raw', 'events')`: `events`). */
  readonly table: string;
}

/** The placeholder `source()` prints for `placed`. */
export function sourcePlaceholder(placed: PlacedSource): string {
  return `__strata_dbt_source_${Buffer.from(JSON.stringify([placed.relation, placed.eventTime, placed.table])).toString('hex')}__`;
}

/** What the placeholder whose hex part is `hex` carries. */
export function placedSource(hex: string): PlacedSource {
  const [relation, eventTime, table] = JSON.parse(Buffer.from(hex, 'hex').toString()) as [string, string, string];
  return { relation, eventTime, table };
}
