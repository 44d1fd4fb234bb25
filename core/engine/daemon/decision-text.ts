import type { TickDecision } from '../../../storage/daemon-tick-store.ts';
import { describeTargets } from './asset-partitions.ts';

/**
 * One line for a tick decision, as the daemon logs it and `assets daemon ticks` prints it:
 * `requested automation features/daily@2025-03-01 +6: eager(): missing → run 1a2b3c4d`.
 */
export function describeDecision(decision: TickDecision): string {
  const { targets, name } = decision;
  const onlyItself = targets.length === 1 && targets[0]?.key === name && targets[0].partitions === null;
  const what =
    targets.length === 0 || onlyItself
      ? name
      : targets.length === 1 && targets[0]?.key === name
        ? describeTargets(targets)
        : `${name} [${describeTargets(targets)}]`;
  return `${decision.action.padEnd(9)} ${decision.source} ${what}: ${decision.reason}${decision.runId ? ` → run ${decision.runId.slice(0, 8)}` : ''}`;
}
