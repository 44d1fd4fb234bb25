// `#/runs/ID`: a run's header, step timeline and event log; live while it runs (events
// appended as they arrive), polled when the event stream is down.

import { getJson, messageOf, postJson } from './api.js';
import { stepTimeline } from './charts.js';
import { assetRoute, debounce, h, replace } from './dom.js';
import { clockTime, dateTime, duration, runDuration, shortId } from './format.js';
import * as live from './live.js';
import { errorBox } from './router.js';
import { stepIdOf, stepsOf } from './run-steps.js';
import { schemaChangeList } from './schema-section.js';
import { isActive, runStatusClass } from './status.js';

/** Renders run `id` into `container`. */
export async function renderRunPage(container, id, scope) {
  replace(container, h('div.loading', {}, `Loading run ${id}…`));
  let data;
  try {
    data = await getJson(`/api/runs/${encodeURIComponent(id)}`, { signal: scope.signal });
  } catch (error) {
    if (scope.alive) replace(container, h('div.page', {}, h('p', {}, h('a', { href: '#/runs' }, '← Runs')), errorBox(error)));
    return;
  }
  if (!scope.alive) return;
  let run = data.run;
  const events = [];
  const seen = new Set();
  /** The latest percentage of each running step, from live `step_progress` events (never stored, not in the log). */
  const progress = new Map();
  live.setRunFilter(run.id);

  const status = h('span', { 'data-testid': 'run-status' });
  const head = h('div.run-head');
  const errorLine = h('div');
  const cancelError = h('span.form-error', { role: 'alert', 'data-testid': 'cancel-error' });
  const cancelButton = h('button.danger', { type: 'button', 'data-testid': 'cancel-run', on: { click: cancelRun } }, 'Cancel run');
  const timeline = h('div.timeline-holder');
  const onlyProblems = h('input', { type: 'checkbox', name: 'problems' });
  const hideLogs = h('input', { type: 'checkbox', name: 'hideLogs' });
  const tbody = h('tbody');
  const eventTable = h(
    'table.grid.event-table',
    { 'data-testid': 'event-log' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Time', 'Type', 'Asset', 'Partition', 'Message'].map((c) => h('th', {}, c)),
      ),
    ),
    tbody,
  );
  const filterRows = () => {
    for (const tr of tbody.rows)
      tr.hidden = (onlyProblems.checked && tr.dataset.level !== 'warn' && tr.dataset.level !== 'error') || (hideLogs.checked && tr.dataset.type === 'log');
  };
  onlyProblems.addEventListener('change', filterRows);
  hideLogs.addEventListener('change', filterRows);

  replace(
    container,
    h(
      'div.page.run-page',
      {},
      h('p.breadcrumb', {}, h('a', { href: '#/runs' }, 'Runs'), ' / ', shortId(run.id)),
      h('header', {}, h('h1.mono', {}, `Run ${shortId(run.id)}`), head, errorLine),
      h('section.card', {}, h('h2', {}, 'Steps'), timeline),
      h(
        'section.card',
        {},
        h('h2', {}, 'Event log'),
        h(
          'div.event-controls',
          {},
          h('label.check-field', {}, onlyProblems, 'warnings and errors only'),
          h('label.check-field', {}, hideLogs, 'hide log lines'),
        ),
        eventTable,
      ),
    ),
  );

  function paintHead() {
    status.className = runStatusClass(run.status);
    status.textContent = run.status;
    replace(
      head,
      status,
      h('span', {}, 'Trigger ', h('strong', {}, run.trigger)),
      h('span', {}, 'Selection ', h('code', {}, run.selection)),
      h('span', {}, 'Started ', h('strong', {}, dateTime(run.startedAt ?? run.createdAt))),
      run.endedAt ? h('span', {}, 'Ended ', h('strong', {}, dateTime(run.endedAt))) : null,
      h('span', {}, 'Duration ', h('strong', {}, duration(runDuration(run)))),
      h('span.mono.muted', { title: 'run id' }, run.id),
      Object.keys(run.tags ?? {}).length
        ? h(
            'span',
            {},
            Object.entries(run.tags).map(([k, v]) => h('span.tag', {}, `${k}=${v}`)),
          )
        : null,
      isActive(run.status) ? [cancelButton, cancelError] : null,
    );
    replace(errorLine, run.error ? h('div.error-box.run-error', { 'data-testid': 'run-error' }, run.error) : null);
  }

  /** Asks the server to cancel this run; it ends as canceled (running steps roll back). */
  async function cancelRun() {
    cancelButton.disabled = true;
    cancelError.textContent = '';
    try {
      await postJson(`/api/runs/${encodeURIComponent(run.id)}/cancel`, {});
      cancelButton.textContent = 'Canceling…';
    } catch (error) {
      cancelError.textContent = messageOf(error);
      cancelButton.disabled = false;
    }
  }

  function paintTimeline() {
    const steps = stepsOf(events).map((s) => (s.status === 'running' && progress.has(s.label) ? { ...s, progress: progress.get(s.label) } : s));
    if (steps.length === 0) return void replace(timeline, h('p.muted', {}, isActive(run.status) ? 'No step has started yet.' : 'This run had no steps.'));
    const t0 = Math.min(run.startedAt ?? run.createdAt, ...steps.map((s) => s.start));
    const t1 = Math.max(run.endedAt ?? Date.now(), ...steps.map((s) => s.end ?? 0));
    replace(timeline, stepTimeline(steps, t0, t1, { width: Math.max(480, timeline.clientWidth || 900) }));
  }
  const paintTimelineSoon = debounce(paintTimeline, 200);
  scope.defer(paintTimelineSoon.cancel);

  function add(list) {
    const rows = [];
    for (const e of list) {
      const k = e.id ?? `${e.timestamp}:${e.type}:${e.assetKey}:${e.partition}:${e.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      events.push(e);
      const tr = h(
        'tr',
        { class: `level-${e.level}`, dataset: { level: e.level, type: e.type } },
        h('td.nowrap.mono', { title: dateTime(e.timestamp) }, clockTime(e.timestamp)),
        h('td.type', {}, e.type),
        h('td', {}, e.assetKey ? h('a.mono', { href: assetRoute(e.assetKey) }, e.assetKey) : ''),
        h('td.mono', {}, e.partition ?? (e.data?.partitions ? `${e.data.partitions.from}…${e.data.partitions.to}` : '')),
        h('td.msg', {}, e.message, e.type === 'schema_change' && e.data ? schemaChangeList(e.data) : null),
      );
      rows.push(tr);
    }
    if (rows.length === 0) return;
    tbody.append(...rows);
    filterRows();
    paintTimelineSoon();
  }

  paintHead();
  add(data.events);
  paintTimeline();
  document.body.dataset.ready = 'run';

  async function catchUp() {
    try {
      const next = await getJson(`/api/runs/${encodeURIComponent(run.id)}`, { signal: scope.signal });
      if (!scope.alive) return;
      run = next.run;
      paintHead();
      add(next.events);
    } catch (error) {
      if (error?.name !== 'AbortError') console.warn('run refresh failed', error);
    }
  }
  scope.on('run', (r) => {
    if (r.id !== run.id) return;
    const ended = isActive(run.status) && !isActive(r.status);
    run = r;
    paintHead();
    if (ended) void catchUp().then(paintTimeline);
  });
  scope.on('run_event', (e) => {
    if (e.runId !== run.id) return;
    if (e.type !== 'step_progress') return void add([e]);
    progress.set(stepIdOf(e), Number(e.data?.percentage ?? 0));
    paintTimelineSoon();
  });
  // After a reconnect, fetch what the stream missed.
  let wasLive = live.isLive();
  scope.onConnection((connected) => {
    if (connected && !wasLive) void catchUp();
    wasLive = connected;
  });
  scope.every(1000, () => {
    if (!isActive(run.status)) return;
    paintHead();
    paintTimelineSoon();
  });
  scope.every(2000, () => isActive(run.status) && !live.isLive() && catchUp());
}
