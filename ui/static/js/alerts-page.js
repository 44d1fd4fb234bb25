// `#/alerts`: the project's alert rules and the recent alert deliveries (GET /api/alerts),
// newest first; a delivery that failed shows its error. Refreshed every few seconds.

import { getJson, query } from './api.js';
import { assetRoute, h, replace, table } from './dom.js';
import { count, dateTime } from './format.js';
import { errorBox } from './router.js';
import { runStatusClass } from './status.js';

const PAGE_SIZE = 50;
/** A delivery's status shown as the run status it is like. */
const LIKE_RUN = { delivered: 'success', failed: 'failed', sending: 'running', pending: 'queued' };

function partitions(d) {
  if (d.firstPartition === null) return h('span.muted', {}, '—');
  return d.firstPartition === d.lastPartition ? d.firstPartition : `${d.firstPartition} … ${d.lastPartition}`;
}

function rulesTable(rules) {
  if (rules.length === 0) return h('p.empty', {}, 'No alert rules: add "alerts" to strata.json (see the README).');
  return table(
    [
      { label: 'Rule', cell: (r) => h('code', {}, r.name) },
      { label: 'On', cell: (r) => r.on.join(', ') },
      { label: 'Selection', cell: (r) => (r.select ? h('code', {}, r.select) : h('span.muted', {}, 'every asset')) },
      { label: 'Targets', cell: (r) => r.targets.join(', ') },
    ],
    rules,
  );
}

function deliveriesTable(deliveries) {
  if (deliveries.length === 0) return h('p.empty', {}, 'No alerts sent yet.');
  return table(
    [
      { label: 'Status', cell: (d) => h('span', { class: runStatusClass(LIKE_RUN[d.status] ?? 'queued'), 'data-testid': 'alert-status' }, d.status) },
      { label: 'Rule', cell: (d) => h('code', {}, d.rule) },
      { label: 'Kind', cell: (d) => d.kind },
      { label: 'Asset', cell: (d) => (d.assetKey ? h('a', { href: assetRoute(d.assetKey) }, d.assetKey) : h('span.muted', {}, '—')) },
      { label: 'Events', cell: (d) => count(d.count), class: 'num' },
      { label: 'Partitions', cell: partitions, class: 'nowrap' },
      { label: 'First', cell: (d) => dateTime(d.firstAt), class: 'nowrap' },
      { label: 'Attempts', cell: (d) => count(d.attempts), class: 'num' },
      { label: 'Error', cell: (d) => (d.lastError ? h('span.text-failed', { 'data-testid': 'alert-error' }, d.lastError) : '') },
    ],
    deliveries,
    { rowClass: (d) => (d.status === 'failed' ? 'row-error' : null) },
  );
}

/** Renders the alerts page into `container`. */
export async function renderAlertsPage(container, _params, scope) {
  const rules = h('div', { id: 'alert-rules' }, h('div.loading', {}, 'Loading…'));
  const list = h('div', { id: 'alert-deliveries' });
  replace(
    container,
    h(
      'div.page',
      {},
      h('div.page-head', {}, h('h1', {}, 'Alerts')),
      h('section.card', {}, h('h2', {}, 'Rules'), rules),
      h('section.card', {}, h('h2', {}, 'Recent deliveries'), list),
    ),
  );

  async function load() {
    try {
      const body = await getJson(`/api/alerts${query({ limit: PAGE_SIZE })}`, { signal: scope.signal });
      if (!scope.alive) return;
      replace(rules, rulesTable(body.rules));
      replace(list, deliveriesTable(body.deliveries));
      document.body.dataset.ready = 'alerts';
    } catch (error) {
      if (scope.alive && error?.name !== 'AbortError') replace(rules, errorBox(error));
    }
  }

  scope.every(5000, load);
  await load();
}
