// The asset page's "Materialize" form: POST /api/runs with the asset's key (only if stale, or a
// full refresh of an incremental asset or snapshot), then the run's progress, live (from `run`
// and `run_event`s) or polled when the event stream is down.

import { getJson, messageOf, postJson } from './api.js';
import { h, replace, runRoute } from './dom.js';
import { shortId } from './format.js';
import * as live from './live.js';
import { isActive, runStatusClass } from './status.js';

const STEP_END = new Set(['step_success', 'step_failure', 'step_skipped']);

/**
 * The form for `detail` (an AssetDetail). `onRunEnded(run)` is called when the launched run
 * finishes (so the page can refresh the asset's state).
 */
export function materializeForm(detail, scope, onRunEnded) {
  const button = h('button.primary', { type: 'submit', 'data-testid': 'materialize' }, 'Materialize');
  const partition = detail.partitions
    ? h('input', { type: 'text', name: 'partition', placeholder: 'all partitions', 'aria-label': 'Partition', size: 14, spellcheck: 'false' })
    : null;
  const staleOnly = h('input', { type: 'checkbox', name: 'staleOnly' });
  // Incremental assets and snapshots can be rebuilt from scratch; a snapshot's history goes only
  // when the second box names it in `force` (the server refuses otherwise, as the CLI does).
  const refreshable = detail.materialization === 'incremental' || detail.materialization === 'snapshot';
  const fullRefresh = refreshable ? h('input', { type: 'checkbox', name: 'fullRefresh', 'data-testid': 'full-refresh' }) : null;
  const force = detail.materialization === 'snapshot' ? h('input', { type: 'checkbox', name: 'force', 'data-testid': 'force-refresh' }) : null;
  const forceField = force ? h('label.check-field', { hidden: true }, force, "drop the snapshot's history") : null;
  fullRefresh?.addEventListener('change', () => {
    if (forceField) forceField.hidden = !fullRefresh.checked;
    if (force && !fullRefresh.checked) force.checked = false;
  });
  const error = h('span.form-error', { role: 'alert', 'data-testid': 'materialize-error' });
  const progress = h('div.run-progress', { 'data-testid': 'run-progress' });
  const form = h(
    'form.form-row.materialize-form',
    {
      on: {
        submit: (e) => {
          e.preventDefault();
          void launch();
        },
      },
    },
    partition ? h('label.field', {}, h('span', {}, 'Partition'), partition) : null,
    h('label.check-field', {}, staleOnly, detail.partitions ? 'stale partitions only' : 'only if stale'),
    fullRefresh
      ? h('label.check-field', { title: 'Rebuild from scratch instead of merging new rows (assets materialize --full-refresh)' }, fullRefresh, 'full refresh')
      : null,
    forceField,
    button,
    error,
  );
  if (detail.source) {
    button.disabled = true;
    button.title = 'Source assets are observed, not materialized';
  }

  async function launch() {
    error.textContent = '';
    partition?.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      const body = { select: detail.key };
      if (partition?.value.trim()) body.partition = partition.value.trim();
      if (staleOnly.checked) body.staleOnly = true;
      if (fullRefresh?.checked) body.fullRefresh = true;
      if (fullRefresh?.checked && force?.checked) body.force = [detail.key];
      const { body: answer } = await postJson('/api/runs', body);
      if (!answer?.runId) {
        replace(progress, h('p.muted', {}, answer?.message ?? 'Nothing to do: the asset is up to date.'));
        button.disabled = false;
        return;
      }
      follow(answer.runId, answer.steps);
    } catch (e) {
      error.textContent = messageOf(e);
      if (e?.parameter === 'partition') partition?.setAttribute('aria-invalid', 'true');
      button.disabled = false;
    }
  }

  function follow(runId, steps) {
    const status = h('span', { class: runStatusClass('queued'), 'data-testid': 'launched-run-status' }, 'queued');
    const counter = h('span.muted');
    const last = h('div.muted.last-event');
    const done = new Set();
    let ended = false;
    replace(progress, h('p', {}, 'Run ', h('a', { href: runRoute(runId), 'data-testid': 'launched-run' }, shortId(runId)), ' ', status, ' ', counter), last);
    const showCount = () =>
      (counter.textContent = steps ? `${Math.min(done.size, steps)} of ${steps} step${steps === 1 ? '' : 's'} done` : `${done.size} done`);
    showCount();
    const setStatus = (run) => {
      if (ended) return;
      status.className = runStatusClass(run.status);
      status.textContent = run.status;
      if (!isActive(run.status)) {
        ended = true;
        button.disabled = false;
        onRunEnded(run);
      }
    };
    scope.on('run', (run) => run.id === runId && setStatus(run));
    scope.on('run_event', (event) => {
      if (event.runId !== runId) return;
      if (STEP_END.has(event.type)) done.add(`${event.assetKey}@${event.partition ?? ''}`);
      if (event.type !== 'log') last.textContent = event.message;
      showCount();
    });
    // Catch up (events before the subscription) and poll while the stream is down.
    const poll = async () => {
      if (ended) return;
      try {
        const { run, events } = await getJson(`/api/runs/${encodeURIComponent(runId)}`, { signal: scope.signal });
        for (const e of events) if (STEP_END.has(e.type)) done.add(`${e.assetKey}@${e.partition ?? ''}`);
        const lastEvent = events.filter((e) => e.type !== 'log').at(-1);
        if (lastEvent) last.textContent = lastEvent.message;
        showCount();
        setStatus(run);
      } catch {
        /* the run may not be readable yet */
      }
    };
    void poll();
    scope.every(2000, () => !live.isLive() && poll());
  }

  return h('div.materialize', {}, form, progress);
}
