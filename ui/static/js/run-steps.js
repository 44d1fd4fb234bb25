// Steps of a run derived from its event log, for the timeline: one entry per step (asset and
// partition or partition range), from `step_start` to `step_success` / `step_failure`.

/** The step an event belongs to: `key`, `key@partition` or `key@from..to`. */
export function stepIdOf(event) {
  const range = event.data?.partitions;
  if (range && typeof range === 'object' && range.from !== undefined) return `${event.assetKey}@${range.from}..${range.to}`;
  return event.partition ? `${event.assetKey}@${event.partition}` : event.assetKey;
}

/**
 * Steps in order of first appearance: `{ label, start, end, status, detail }` with status
 * running, success, failed, canceled, retry or skipped.
 */
export function stepsOf(events) {
  const steps = new Map();
  for (const e of events) {
    if (!e.assetKey || !e.type.startsWith('step_')) continue;
    const id = stepIdOf(e);
    let step = steps.get(id);
    if (!step) {
      step = { label: id, start: e.timestamp, end: null, status: 'running', detail: '' };
      steps.set(id, step);
    }
    switch (e.type) {
      case 'step_start':
        step.start = Math.min(step.start, e.timestamp);
        break;
      case 'step_retry':
        step.status = 'retry';
        step.detail = e.message;
        break;
      case 'step_success':
        step.end = e.timestamp;
        step.status = 'success';
        break;
      case 'step_failure':
        step.end = e.timestamp;
        step.status = e.data?.canceled ? 'canceled' : 'failed';
        step.detail = String(e.data?.error ?? e.message);
        break;
      case 'step_skipped':
        step.end = e.timestamp;
        step.status = 'skipped';
        step.detail = e.message;
        break;
    }
  }
  return [...steps.values()];
}
