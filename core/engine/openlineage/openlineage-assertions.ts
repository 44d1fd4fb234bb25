import type { CheckSpec } from '../../model/definitions/check-spec.ts';
import type { AssertionSpec } from '../../model/openlineage/openlineage-run-event.ts';

/**
 * A `check_result` event's data as an OpenLineage data-quality assertion: the check's rule
 * (`not_null`, `unique`, …), name, severity, whether it passed (a check that could not run did
 * not), and the column it names when it names exactly one.
 */
export function assertionOf(data: Readonly<Record<string, unknown>>, checks: readonly CheckSpec[]): AssertionSpec {
  const name = String(data.check ?? 'check');
  const spec = checks.find((c) => c.name === name);
  const column = spec === undefined ? undefined : columnOf(spec);
  return {
    assertion: spec?.type ?? name,
    name,
    success: data.passed === true && data.status !== 'error',
    severity: typeof data.severity === 'string' ? data.severity : (spec?.severity ?? 'error'),
    ...(column === undefined ? {} : { column }),
  };
}

function columnOf(spec: CheckSpec): string | undefined {
  if ('column' in spec) return spec.column;
  if (spec.type === 'unique' && spec.columns.length === 1) return spec.columns[0];
  return undefined;
}
