/**
 * Which queued run a claim takes, the same on every storage (each calls {@link pickClaimable}
 * inside its own critical section, with the queued runs oldest first and the pools of the runs
 * running now).
 *
 * The rule: the oldest queued run whose pools all have a free slot (fewer running runs than
 * their limit) and that the claimer serves (all its pools in `claim.pools`). A run that cannot
 * start because a pool is full holds back every later run that needs one of its pools, so it
 * takes the next free slot and is never overtaken forever; later runs that need none of its
 * pools go ahead. A run the claimer does not serve but that could start is left to another
 * claimer and holds back nothing.
 */

import { parseJsonArray } from './column-codecs.ts';
import type { RunClaim } from './storage.ts';

/** A queued run as the claim sees it. */
export interface QueuedCandidate {
  readonly id: string;
  /** Its recorded pools (empty: none). */
  readonly pools: readonly string[];
}

/**
 * The id of the run `claim` takes among `queued` (oldest first), given the pools of every run
 * running now; `undefined` when none may start.
 *
 * @example
 * pickClaimable([{ id: 'a', pools: ['warehouse'] }], [['warehouse']], { now, pid, poolLimit: () => 1 }); // undefined
 */
export function pickClaimable(
  queued: readonly QueuedCandidate[],
  running: readonly (readonly string[])[],
  claim: Pick<RunClaim, 'poolLimit' | 'pools'>,
): string | undefined {
  const use = new Map<string, number>();
  for (const pools of running) for (const pool of pools) use.set(pool, (use.get(pool) ?? 0) + 1);
  const limit = claim.poolLimit ?? (() => Infinity);
  const served = claim.pools === undefined ? undefined : new Set(claim.pools);
  /** Pools an older run waits for. */
  const held = new Set<string>();
  for (const run of queued) {
    const blocked = run.pools.some((pool) => held.has(pool) || (use.get(pool) ?? 0) >= limit(pool));
    if (blocked) {
      for (const pool of run.pools) held.add(pool);
      continue;
    }
    if (served === undefined || run.pools.every((pool) => served.has(pool))) return run.id;
  }
  return undefined;
}

/** The pools of a `runs.pools` column (JSON array text, or null: none). */
export function poolsOfColumn(text: string | null): string[] {
  return text === null ? [] : parseJsonArray<string>(text);
}

/**
 * Queued runs a claim reads first: enough in practice; only when none of them may start are
 * the rest read too (a later run with free pools is still found).
 */
export const FIRST_QUEUE_PAGE = 200;

/** {@link pickClaimable} over `runs` rows: `queued` (id, pools) oldest first, `running` (pools). */
export function pickFromRows(
  queued: readonly { readonly id: string; readonly pools: string | null }[],
  running: readonly { readonly pools: string | null }[],
  claim: Pick<RunClaim, 'poolLimit' | 'pools'>,
): string | undefined {
  return pickClaimable(
    queued.map((row) => ({ id: row.id, pools: poolsOfColumn(row.pools) })),
    running.map((row) => poolsOfColumn(row.pools)),
    claim,
  );
}
