/**
 * OpenLineage identifiers: run ids are UUIDs. A Strata run id is already one (a random UUID);
 * a step's run id is derived from its Strata run id and step id (a name-based, version 5 UUID),
 * so the events of one step share it in every process that emits them, and emitting again
 * (a buffer re-sent) names the same run.
 */
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The UUID namespace of Strata's derived run ids (itself a fixed random UUID). */
const STRATA_NAMESPACE = Buffer.from('a3d2f1c8-5b7e-4e0a-9c61-2f4b8d9e7a10'.replace(/-/g, ''), 'hex');

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of a namespace and a name).
 *
 * @example
 * nameUuid('run-1\u0000marts/fct_sales'); // the same UUID every time
 */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(STRATA_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The OpenLineage run id of a Strata run: its own id when that is a UUID (it always is today), else one derived from it. */
export function strataRunUuid(runId: string): string {
  return UUID.test(runId) ? runId.toLowerCase() : nameUuid(`run\u0000${runId}`);
}

/** The OpenLineage run id of one step (`stepId`, e.g. `staging/orders@2025-01-01`) of a Strata run. */
export function stepRunUuid(runId: string, stepId: string): string {
  return nameUuid(`step\u0000${runId}\u0000${stepId}`);
}
