// `#/assets/KEY`: one asset — status, definition, partitions, history, columns, schema, checks, code, and a
// Materialize form. Refreshes (debounced) when a live `asset` event names it or a run of it ends.

import { getJson, keyPath } from './api.js';
import { checksSection, codeSection, definitionSection, historySection, partitionSection } from './asset-sections.js';
import { columnSection } from './column-section.js';
import { schemaSection } from './schema-section.js';
import { debounce, h, replace } from './dom.js';
import { ago, count, dateTime, duration, freshnessText, shortId, writeSummaryText } from './format.js';
import * as live from './live.js';
import { materializeForm } from './materialize-form.js';
import { errorBox } from './router.js';
import { RunningAssets } from './running-assets.js';
import { assetStatus, STATUS_HELP } from './status.js';

/** Everything the page shows, fetched in parallel. */
async function fetchAsset(key, signal) {
  const [detail, history, partitions, schema] = await Promise.all([
    getJson(keyPath('/api/assets', key), { signal }),
    getJson(`${keyPath('/api/history', key)}?limit=100`, { signal }),
    getJson(keyPath('/api/partitions', key), { signal }),
    getJson(keyPath('/api/schema', key), { signal }),
  ]);
  return { detail, history, partitions, schema };
}

/** Renders the page of asset `key` into `container`. */
export async function renderAssetPage(container, key, scope) {
  replace(container, h('div.loading', {}, `Loading ${key}…`));
  let data;
  try {
    data = await fetchAsset(key, scope.signal);
  } catch (error) {
    if (!scope.alive) return;
    replace(container, h('div.page', {}, h('p', {}, h('a', { href: '#/' }, '← Lineage')), errorBox(error)));
    return;
  }
  if (!scope.alive) return;

  const running = new RunningAssets(scope, (keys, ended) => {
    if (keys.includes(key)) {
      paintStatus();
      if (ended) refreshSoon();
    }
  });
  const statusWord = h('span.status-pill', { 'data-testid': 'asset-status' });
  const stateText = h('span.muted');
  const headFacts = h('div.head-facts');
  const sections = h('div.sections');
  const form = materializeForm(data.detail, scope, () => refreshSoon());
  // Traced once per visit (it does not change with runs of the asset).
  const columns = columnSection(key, scope.signal, data.detail.columnDescriptions ?? {});

  function statusOf() {
    const { detail } = data;
    return assetStatus({ ...detail.state, stale: detail.stale }, running.has(key));
  }

  function paintStatus() {
    const status = statusOf();
    statusWord.textContent = status;
    statusWord.dataset.status = status;
    statusWord.title = STATUS_HELP[status];
    const { state } = data.detail;
    const stale = data.detail.stale;
    stateText.textContent = `${state.state}${typeof stale === 'number' && stale > 0 ? ` · ${count(stale)} stale${data.detail.partitions ? ' partitions' : ''}` : ''}`;
  }

  function paintBody() {
    const { detail, history, partitions, schema } = data;
    const { state } = detail;
    replace(
      headFacts,
      h(
        'span',
        {},
        'Last built ',
        state.lastMaterializedAt ? h('strong', { title: dateTime(state.lastMaterializedAt) }, ago(state.lastMaterializedAt)) : h('strong', {}, 'never'),
      ),
      state.runId ? h('span', {}, 'by run ', h('a.mono', { href: `#/runs/${encodeURIComponent(state.runId)}` }, shortId(state.runId))) : null,
      state.rowCount !== null ? h('span', {}, h('strong', {}, count(state.rowCount)), ' rows') : null,
      state.freshness
        ? h(
            'span',
            { 'data-testid': 'freshness', title: `Freshness policy: overdue when the newest data is more than ${duration(state.freshness.maxLagMs)} old` },
            'Freshness ',
            h(state.freshness.status === 'fresh' ? 'strong' : 'strong.text-failed', {}, freshnessText(state.freshness)),
          )
        : null,
      writeSummaryText(state.incremental ?? state.snapshot)
        ? h('span', { 'data-testid': 'last-write' }, writeSummaryText(state.incremental ?? state.snapshot))
        : null,
      state.checks
        ? h(
            'span',
            {},
            `${state.checks.total} checks`,
            state.checks.failed ? h('span.text-failed', {}, `, ${state.checks.failed} failed`) : '',
            state.checks.warned ? h('span.text-warned', {}, `, ${state.checks.warned} warned`) : '',
            state.checks.errored ? h('span.text-failed', {}, `, ${state.checks.errored} could not run`) : '',
          )
        : null,
    );
    replace(
      sections,
      detail.partitions ? partitionSection(partitions) : null,
      h('div.grid-2', {}, definitionSection(detail), historySection(history.runs)),
      columns,
      schemaSection(schema),
      checksSection(detail.checks),
      codeSection(detail),
    );
  }

  replace(
    container,
    h(
      'div.page.asset-page',
      {},
      h('p.breadcrumb', {}, h('a', { href: '#/' }, 'Lineage'), ' / ', data.detail.group),
      h(
        'header.page-head',
        {},
        h(
          'div',
          {},
          h('h1.mono', { 'data-testid': 'asset-key' }, key),
          h('p.status-line', {}, statusWord, ' ', stateText),
          data.detail.description ? h('p.description', {}, data.detail.description) : null,
          headFacts,
        ),
        h('div.card.action-card', {}, form),
      ),
      sections,
    ),
  );
  paintStatus();
  paintBody();
  document.body.dataset.ready = 'asset';

  async function refresh() {
    try {
      const next = await fetchAsset(key, scope.signal);
      if (!scope.alive) return;
      data = next;
      paintStatus();
      paintBody();
    } catch (error) {
      if (error?.name !== 'AbortError') console.warn('asset refresh failed', error);
    }
  }
  const refreshSoon = debounce(refresh, 500);
  scope.defer(refreshSoon.cancel);
  scope.on('asset', (event) => event.key === key && refreshSoon());
  scope.every(20_000, () => !live.isLive() && refresh());
  running.seed(scope.signal).then(paintStatus, () => undefined);
}
