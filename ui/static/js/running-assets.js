// Which assets are being materialized now: the assets of running runs (seeded from
// GET /api/runs?status=running, then kept current from live `run` and `run_event`s), minus
// the steps that already finished.

import { getJson } from './api.js';
import { isActive } from './status.js';

const STEP_END = new Set(['step_success', 'step_failure', 'step_skipped']);

export class RunningAssets {
  /** @type {Map<string, Set<string>>} run id → asset keys still to finish */
  #runs = new Map();

  /**
   * Subscribes through `scope` and seeds from the API. `onChange(keys, ended)` is called with
   * the keys whose running state may have changed (`ended`: a run finished, so states changed).
   */
  constructor(scope, onChange) {
    this.onChange = onChange;
    scope.on('run', (run) => this.#onRun(run));
    scope.on('run_event', (event) => this.#onEvent(event));
  }

  async seed(signal) {
    const { runs } = await getJson('/api/runs?status=running&limit=100', { signal });
    for (const run of runs) this.#onRun(run, false);
  }

  /** True when `key` is in a running run and its step has not ended yet. */
  has(key) {
    for (const keys of this.#runs.values()) if (keys.has(key)) return true;
    return false;
  }

  /** Every running key. */
  keys() {
    const all = new Set();
    for (const keys of this.#runs.values()) for (const k of keys) all.add(k);
    return all;
  }

  #onRun(run, notify = true) {
    if (isActive(run.status)) {
      if (this.#runs.has(run.id)) return;
      this.#runs.set(run.id, new Set(run.assetKeys));
      if (notify) this.onChange(run.assetKeys, false);
    } else {
      const keys = this.#runs.get(run.id);
      this.#runs.delete(run.id);
      this.onChange([...(keys ?? []), ...run.assetKeys], true);
    }
  }

  #onEvent(event) {
    if (!event.assetKey || !STEP_END.has(event.type)) return;
    const keys = this.#runs.get(event.runId);
    if (keys?.delete(event.assetKey)) this.onChange([event.assetKey], false);
  }
}
