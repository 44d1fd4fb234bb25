// `#/runs`: runs, newest first, with status filter and paging; live `run` events update
// rows in place and add new runs on the first page.

import { getJson, query } from './api.js';
import { h, replace, runRoute, table } from './dom.js';
import { dateTime, duration, runDuration, shortId } from './format.js';
import * as live from './live.js';
import { errorBox } from './router.js';
import { isActive, runStatusClass } from './status.js';

const PAGE_SIZE = 25;
const STATUSES = ['queued', 'running', 'success', 'failed', 'canceled'];

/** A run's status word. */
export function runStatus(status, attrs = {}) {
  return h('span', { class: runStatusClass(status), ...attrs }, status);
}

/** Renders the runs list into `container`. */
export async function renderRunsPage(container, _params, scope) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const state = {
    status: STATUSES.includes(params.get('status')) ? params.get('status') : '',
    offset: Math.max(0, Number(params.get('offset')) || 0),
    runs: [],
  };
  const statusSelect = h(
    'select',
    { name: 'status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'All statuses'),
    STATUSES.map((s) => h('option', { value: s, selected: s === state.status }, s)),
  );
  const list = h('div.run-list', { id: 'run-list' }, h('div.loading', {}, 'Loading runs…'));
  const prev = h('button', { type: 'button', on: { click: () => go(state.offset - PAGE_SIZE) } }, '← Newer');
  const next = h('button', { type: 'button', on: { click: () => go(state.offset + PAGE_SIZE) } }, 'Older →');
  const pageInfo = h('span.muted');
  statusSelect.addEventListener('change', () => {
    state.status = statusSelect.value;
    go(0);
  });
  replace(
    container,
    h(
      'div.page',
      {},
      h('div.page-head', {}, h('h1', {}, 'Runs'), h('div.filters', {}, statusSelect)),
      h('section.card', {}, list, h('div.pager', {}, pageInfo, prev, next)),
    ),
  );

  function go(offset) {
    state.offset = Math.max(0, offset);
    history.replaceState(null, '', `#/runs${query({ status: state.status, offset: state.offset || '' })}`);
    void load();
  }

  async function load() {
    try {
      const body = await getJson(`/api/runs${query({ limit: PAGE_SIZE, offset: state.offset, status: state.status })}`, { signal: scope.signal });
      if (!scope.alive) return;
      state.runs = body.runs;
      paint();
      document.body.dataset.ready = 'runs';
    } catch (error) {
      if (scope.alive && error?.name !== 'AbortError') replace(list, errorBox(error));
    }
  }

  function paint() {
    prev.disabled = state.offset === 0;
    next.disabled = state.runs.length < PAGE_SIZE;
    pageInfo.textContent = state.runs.length ? `${state.offset + 1}–${state.offset + state.runs.length}` : '';
    if (state.runs.length === 0)
      return void replace(list, h('p.empty', {}, state.status ? `No ${state.status} runs.` : 'No runs yet. Materialize an asset to start one.'));
    replace(
      list,
      table(
        [
          { label: 'Run', cell: (r) => h('a.mono', { href: runRoute(r.id) }, shortId(r.id)) },
          { label: 'Status', cell: (r) => runStatus(r.status, { 'data-testid': 'run-row-status' }) },
          { label: 'Trigger', cell: (r) => r.trigger },
          { label: 'Selection', cell: (r) => h('code', { title: r.assetKeys.join('\n') }, r.selection), class: 'selection' },
          { label: 'Assets', cell: (r) => String(r.assetKeys.length), class: 'num' },
          { label: 'Started', cell: (r) => dateTime(r.startedAt ?? r.createdAt), class: 'nowrap' },
          { label: 'Duration', cell: (r) => duration(runDuration(r)), class: 'num nowrap' },
        ],
        state.runs,
        { class: 'runs-table', rowClass: (r) => (r.status === 'failed' ? 'row-error' : null) },
      ),
    );
    for (const [i, tr] of [...list.querySelectorAll('tbody tr')].entries()) tr.dataset.runId = state.runs[i].id;
  }

  scope.on('run', (run) => {
    const i = state.runs.findIndex((r) => r.id === run.id);
    if (i >= 0) state.runs[i] = run;
    else if (state.offset === 0 && (!state.status || state.status === run.status)) state.runs = [run, ...state.runs].slice(0, PAGE_SIZE);
    else return;
    if (state.status && run.status !== state.status) state.runs = state.runs.filter((r) => r.status === state.status);
    paint();
  });
  // Running durations tick; without the event stream, poll.
  scope.every(1000, () => state.runs.some((r) => isActive(r.status)) && paint());
  scope.every(5000, () => !live.isLive() && load());
  await load();
}
