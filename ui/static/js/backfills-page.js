// `#/backfills`: launch a backfill (POST /api/backfills) and follow every backfill's
// progress; the list refreshes on live run/asset events and by polling while one runs.

import { getJson, messageOf, postJson, query } from './api.js';
import { debounce, h, replace, runRoute, table } from './dom.js';
import { count, dateTime, shortId } from './format.js';
import * as live from './live.js';
import { errorBox } from './router.js';
import { runStatusClass } from './status.js';

const PAGE_SIZE = 25;
const MODE_LABELS = { all: 'all', missing_only: 'missing only', stale_only: 'stale only' };

function progressBar(b) {
  const total = Math.max(b.total, 1);
  const done = h('span.progress-done');
  const failed = h('span.progress-failed');
  done.style.width = `${(100 * b.done) / total}%`;
  failed.style.width = `${(100 * b.failed) / total}%`;
  return h(
    'div.progress-cell',
    {},
    h(
      'div.progress',
      {
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': b.total,
        'aria-valuenow': b.done + b.failed,
        title: `${b.done} done, ${b.failed} failed of ${b.total}`,
      },
      done,
      failed,
    ),
    h('span.progress-text', {}, `${count(b.done)} / ${count(b.total)} done`, b.failed ? h('span.text-failed', {}, ` · ${count(b.failed)} failed`) : ''),
  );
}

function launchForm(onLaunched) {
  const error = h('span.form-error', { role: 'alert', 'data-testid': 'backfill-error' });
  const result = h('div.launch-result');
  const submit = h('button.primary', { type: 'submit' }, 'Launch backfill');
  const field = (label, input) => h('label.field', {}, h('span', {}, label), input);
  const fullRefresh = h('input', { type: 'checkbox', name: 'fullRefresh' });
  // Snapshots in the selection are refused unless named here: their history cannot be rebuilt.
  const forceField = field(
    'Drop the history of',
    h('input', { type: 'text', name: 'force', placeholder: 'snapshot keys, comma-separated', spellcheck: 'false', autocomplete: 'off' }),
  );
  forceField.hidden = true;
  const form = h(
    'form.form-row.backfill-form',
    { id: 'backfill-form', novalidate: true },
    field(
      'Selection',
      h('input', { type: 'text', name: 'select', required: true, placeholder: 'e.g. staging/* or +marts/fct_sales', spellcheck: 'false', autocomplete: 'off' }),
    ),
    field('From', h('input', { type: 'date', name: 'from', required: true })),
    field('To', h('input', { type: 'date', name: 'to', required: true })),
    field(
      'Mode',
      h(
        'select',
        { name: 'mode' },
        h('option', { value: 'all' }, 'all partitions'),
        h('option', { value: 'missing' }, 'missing only'),
        h('option', { value: 'stale' }, 'stale only'),
      ),
    ),
    h('label.check-field', {}, h('input', { type: 'checkbox', name: 'perPartition' }), 'one run step per partition'),
    h('label.check-field', { title: 'Rebuild incremental assets from scratch (assets backfill --full-refresh)' }, fullRefresh, 'full refresh'),
    forceField,
    submit,
  );
  fullRefresh.addEventListener('change', () => (forceField.hidden = !fullRefresh.checked));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const values = new FormData(form);
    const body = {
      select: String(values.get('select') ?? '').trim(),
      from: String(values.get('from') ?? ''),
      to: String(values.get('to') ?? ''),
      mode: String(values.get('mode') ?? 'all'),
    };
    if (values.get('perPartition')) body.perPartition = true;
    if (values.get('fullRefresh')) {
      body.fullRefresh = true;
      const forced = String(values.get('force') ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      if (forced.length) body.force = forced;
    }
    const missing = ['select', 'from', 'to'].find((k) => !body[k]);
    if (missing) {
      error.textContent = `${missing === 'select' ? 'Selection' : missing === 'from' ? 'From' : 'To'} is required.`;
      form.elements.namedItem(missing)?.setAttribute('aria-invalid', 'true');
      return;
    }
    submit.disabled = true;
    try {
      const { body: answer } = await postJson('/api/backfills', body);
      replace(result, 'Backfill ', h('code', {}, shortId(answer?.backfillId)), ' started.');
      onLaunched(answer?.backfillId);
    } catch (e) {
      error.textContent = messageOf(e);
      if (e?.parameter) form.elements.namedItem(e.parameter)?.setAttribute('aria-invalid', 'true');
    } finally {
      submit.disabled = false;
    }
  });
  return h('section.card', {}, h('h2', {}, 'New backfill'), form, error, result);
}

/** Renders the backfills page into `container`. */
export async function renderBackfillsPage(container, _params, scope) {
  const state = { offset: 0, backfills: [], highlight: null };
  const list = h('div', { id: 'backfill-list' }, h('div.loading', {}, 'Loading backfills…'));
  const listError = h('p.form-error', { role: 'alert', 'data-testid': 'backfill-list-error' });
  const prev = h('button', { type: 'button', on: { click: () => go(state.offset - PAGE_SIZE) } }, '← Newer');
  const next = h('button', { type: 'button', on: { click: () => go(state.offset + PAGE_SIZE) } }, 'Older →');
  replace(
    container,
    h(
      'div.page',
      {},
      h('div.page-head', {}, h('h1', {}, 'Backfills')),
      launchForm((id) => {
        state.highlight = id;
        go(0);
      }),
      h('section.card', {}, h('h2', {}, 'Backfills'), listError, list, h('div.pager', {}, prev, next)),
    ),
  );

  function go(offset) {
    state.offset = Math.max(0, offset);
    void load();
  }

  async function load() {
    try {
      const body = await getJson(`/api/backfills${query({ limit: PAGE_SIZE, offset: state.offset })}`, { signal: scope.signal });
      if (!scope.alive) return;
      state.backfills = body.backfills;
      paint();
      document.body.dataset.ready = 'backfills';
    } catch (error) {
      if (scope.alive && error?.name !== 'AbortError') replace(list, errorBox(error));
    }
  }

  function paint() {
    prev.disabled = state.offset === 0;
    next.disabled = state.backfills.length < PAGE_SIZE;
    if (state.backfills.length === 0) return void replace(list, h('p.empty', {}, 'No backfills yet.'));
    replace(
      list,
      table(
        [
          { label: 'Backfill', cell: (b) => h('code', { title: b.id }, shortId(b.id)) },
          { label: 'Status', cell: (b) => h('span', { class: runStatusClass(b.status), 'data-testid': 'backfill-status' }, b.status) },
          { label: 'Selection', cell: (b) => h('code', {}, b.selection) },
          { label: 'Range', cell: (b) => h('span.nowrap', {}, `${b.from} … ${b.to}`) },
          { label: 'Mode', cell: (b) => `${MODE_LABELS[b.mode] ?? b.mode}${b.grouping === 'per_partition' ? ', per partition' : ''}` },
          { label: 'Progress', cell: progressBar },
          {
            label: 'Runs',
            cell: (b) =>
              h(
                'span.backfill-runs',
                {},
                b.runIds.length
                  ? b.runIds.map((id) => h('a', { href: runRoute(id), 'data-testid': 'backfill-run' }, shortId(id)))
                  : h('span.muted', {}, 'none yet'),
              ),
          },
          { label: 'Created', cell: (b) => dateTime(b.createdAt), class: 'nowrap' },
          {
            label: '',
            cell: (b) =>
              b.status === 'running'
                ? h(
                    'button.small.danger',
                    { type: 'button', 'data-testid': 'cancel-backfill', on: { click: (e) => cancelBackfill(b, e.currentTarget) } },
                    'Cancel',
                  )
                : null,
          },
        ],
        state.backfills,
        { rowClass: (b) => [b.status === 'failed' ? 'row-error' : null, b.id === state.highlight ? 'row-new' : null].filter(Boolean).join(' ') || null },
      ),
    );
    for (const [i, tr] of [...list.querySelectorAll('tbody tr')].entries()) {
      const b = state.backfills[i];
      tr.dataset.backfillId = b.id;
      tr.dataset.status = b.status;
      if (b.error) tr.title = b.error;
    }
  }

  /** Cancels a running backfill (its process stops within seconds); a refusal shows above the list. */
  async function cancelBackfill(backfill, button) {
    button.disabled = true;
    listError.textContent = '';
    try {
      await postJson(`/api/backfills/${encodeURIComponent(backfill.id)}/cancel`, {});
      button.textContent = 'Canceling…';
      loadSoon();
    } catch (error) {
      listError.textContent = messageOf(error);
      button.disabled = false;
    }
  }

  const anyRunning = () => state.backfills.some((b) => b.status === 'running');
  const loadSoon = debounce(load, 700);
  scope.defer(loadSoon.cancel);
  scope.on('run', (run) => (run.trigger === 'backfill' || anyRunning()) && loadSoon());
  scope.on('asset', () => anyRunning() && loadSoon());
  scope.every(3000, () => (anyRunning() || !live.isLive()) && load());
  await load();
}
