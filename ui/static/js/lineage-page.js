// `#/`: the asset lineage graph. Filter by selection (server-side) and group (client-side),
// click a node to highlight its upstream and downstream and see a summary, double-click to
// open it. Node colours follow live updates without a new layout.

import { ApiError, getJson, messageOf, query } from './api.js';
import { assetRoute, debounce, h, replace } from './dom.js';
import { dagreReady, layoutGraph, relatives } from './graph-layout.js';
import { graphMarkup, parseSvg, updateNode } from './graph-render.js';
import { panZoom } from './graph-view.js';
import { lineagePanel } from './lineage-panel.js';
import * as live from './live.js';
import { errorBox } from './router.js';
import { RunningAssets } from './running-assets.js';
import { assetStatus, checkStatus, STATUS_HELP, STATUSES } from './status.js';
import { columnPathGraph } from './column-section.js';

/** Renders the lineage page into `container`. */
export async function renderLineagePage(container, _params, scope) {
  const hashQuery = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const state = { select: hashQuery.get('select') ?? '', group: hashQuery.get('group') ?? '', assets: [], visible: [], selected: null };
  // `#/?asset=KEY&column=COL`: that column's path is highlighted (from the asset page's Columns section).
  const columnTarget = hashQuery.get('asset') && hashQuery.get('column') ? { key: hashQuery.get('asset'), column: hashQuery.get('column') } : null;
  let columnPath = null;
  let view = null;
  let byKey = new Map();
  let nodeEls = new Map();
  let edgeEls = [];

  const selectInput = h('input.select-input', {
    type: 'text',
    name: 'select',
    value: state.select,
    placeholder: 'selection, e.g. +marts/* or group:sales',
    'aria-label': 'Selection',
    spellcheck: 'false',
    autocomplete: 'off',
  });
  const selectError = h('div.form-error.select-error', { role: 'alert', 'data-testid': 'select-error' });
  const groupSelect = h('select', { name: 'group', 'aria-label': 'Group' }, h('option', { value: '' }, 'All groups'));
  const summary = h('span.muted.graph-count');
  const columnNote = h('span.muted', { 'data-testid': 'column-path-note' });
  const canvas = h('div.lineage-canvas', {}, h('div.loading', {}, 'Loading the asset graph…'));
  const panel = h('aside.lineage-panel', { hidden: true, 'aria-label': 'Selected asset' });
  const running = new RunningAssets(scope, (keys, ended) => {
    for (const key of keys) paintNode(key);
    if (ended) refreshSoon();
  });

  const filterForm = h(
    'form.toolbar-form',
    {
      on: {
        submit: (e) => {
          e.preventDefault();
          void applySelection();
        },
      },
    },
    selectInput,
    h('button', { type: 'submit' }, 'Filter'),
  );
  groupSelect.addEventListener('change', () => {
    state.group = groupSelect.value;
    saveHash();
    draw();
  });
  const zoomButtons = h(
    'div.button-group',
    {},
    h('button', { type: 'button', title: 'Zoom in', on: { click: () => view?.zoomBy(1.25) } }, '+'),
    h('button', { type: 'button', title: 'Zoom out', on: { click: () => view?.zoomBy(0.8) } }, '−'),
    h('button', { type: 'button', title: 'Fit to screen', 'data-testid': 'fit', on: { click: () => view?.fit() } }, 'Fit'),
  );
  const legend = h(
    'ul.legend',
    { 'aria-label': 'Legend' },
    STATUSES.map((s) => h('li', { title: STATUS_HELP[s] }, h('span.legend-dot', { dataset: { status: s } }), s)),
    h('li', { title: 'a check failed (error severity)' }, h('span.legend-check.failed'), 'check failed'),
    h('li', { title: 'a warn-severity check failed' }, h('span.legend-check.warned'), 'check warned'),
  );
  replace(
    container,
    h(
      'div.lineage-page',
      {},
      h('div.toolbar', {}, filterForm, groupSelect, zoomButtons, summary, columnNote),
      selectError,
      legend,
      h('div.lineage-body', {}, canvas, panel),
    ),
  );
  container.classList.add('full-bleed');
  scope.defer(() => container.classList.remove('full-bleed'));

  function setAssets(assets) {
    state.assets = assets;
    byKey = new Map(assets.map((a) => [a.key, a]));
  }

  const statusOf = (a) => assetStatus(a, running.has(a.key));

  function saveHash() {
    const q = query({ select: state.select, group: state.group });
    history.replaceState(null, '', `#/${q}`);
  }

  async function applySelection() {
    state.select = selectInput.value.trim();
    saveHash();
    await load();
  }

  async function load() {
    selectError.textContent = '';
    selectInput.removeAttribute('aria-invalid');
    try {
      const body = await getJson(`/api/assets${query({ select: state.select })}`, { signal: scope.signal });
      if (!scope.alive) return;
      setAssets(body.assets);
      fillGroups();
      await draw();
    } catch (error) {
      if (!scope.alive || error?.name === 'AbortError') return;
      if (error instanceof ApiError && error.status === 400) {
        selectError.textContent = error.message;
        selectInput.setAttribute('aria-invalid', 'true');
        if (!view) replace(canvas, h('div.empty', {}, 'Fix the selection to see the graph.'));
      } else replace(canvas, errorBox(error));
    }
  }

  function fillGroups() {
    const groups = [...new Set(state.assets.map((a) => a.group))].sort();
    if (state.group && !groups.includes(state.group)) groups.push(state.group);
    replace(
      groupSelect,
      h('option', { value: '' }, 'All groups'),
      groups.map((g) => h('option', { value: g, selected: g === state.group }, g)),
    );
  }

  async function draw() {
    const dagre = await dagreReady();
    if (!scope.alive) return;
    state.visible = state.group ? state.assets.filter((a) => a.group === state.group) : state.assets;
    summary.textContent = `${state.visible.length} asset${state.visible.length === 1 ? '' : 's'}`;
    if (state.visible.length === 0) {
      view = null;
      replace(canvas, h('div.empty', {}, 'No assets match.'));
      markReady();
      return;
    }
    const layout = layoutGraph(dagre, state.visible);
    const svgEl = parseSvg(graphMarkup(state.visible, layout, statusOf, checkStatus));
    svgEl.dataset.layoutMs = String(Math.round(layout.ms));
    canvas.replaceChildren(svgEl);
    nodeEls = new Map([...svgEl.querySelectorAll('g.node')].map((g) => [g.dataset.key, g]));
    edgeEls = [...svgEl.querySelectorAll('path.edge')];
    view = panZoom(svgEl, layout);
    view.fit();
    svgEl.addEventListener('click', onClick);
    svgEl.addEventListener('dblclick', onDoubleClick);
    if (state.selected && nodeEls.has(state.selected)) select(state.selected);
    else if (columnPath) paintColumnPath();
    else clearSelection();
    markReady();
  }

  /** Fetches the column path of `#/?asset=&column=` and lights it up. */
  async function loadColumnPath() {
    try {
      const view = await getJson(
        `/api/column-lineage/${columnTarget.key.split('/').map(encodeURIComponent).join('/')}${query({ column: columnTarget.column })}`,
        {
          signal: scope.signal,
        },
      );
      if (!scope.alive) return;
      columnPath = columnPathGraph(columnTarget.key, view.path);
      columnNote.textContent = `path of ${columnTarget.key}.${view.path.column}: ${columnPath.assets.size} assets`;
      paintColumnPath();
    } catch (error) {
      if (error?.name !== 'AbortError') columnNote.textContent = `column path: ${messageOf(error)}`;
    }
  }

  function paintColumnPath() {
    clearSelection();
    for (const [k, g] of nodeEls) {
      g.classList.toggle('highlight', columnPath.assets.has(k));
      g.classList.toggle('dim', !columnPath.assets.has(k));
      g.classList.toggle('selected', k === columnTarget.key);
    }
    for (const e of edgeEls) {
      const on = columnPath.edges.has(`${e.dataset.from}\u0000${e.dataset.to}`);
      e.classList.toggle('highlight', on);
      e.classList.toggle('dim', !on);
    }
  }

  function markReady() {
    requestAnimationFrame(() => {
      if (!scope.alive) return;
      document.body.dataset.ready = 'lineage';
      performance.mark('lineage-rendered');
    });
  }

  function onClick(event) {
    if (view?.wasDrag()) return;
    const g = event.target.closest('g.node');
    if (g) select(g.dataset.key);
    else clearSelection();
  }

  function onDoubleClick(event) {
    const g = event.target.closest('g.node');
    if (g) location.hash = assetRoute(g.dataset.key);
  }

  function select(key) {
    const asset = byKey.get(key);
    if (!asset || !nodeEls.has(key)) return clearSelection();
    state.selected = key;
    const related = relatives(state.visible, key);
    const lit = new Set([key, ...related.up, ...related.down]);
    for (const [k, g] of nodeEls) {
      g.classList.toggle('highlight', lit.has(k));
      g.classList.toggle('dim', !lit.has(k));
      g.classList.toggle('selected', k === key);
    }
    for (const e of edgeEls) {
      const { from, to } = e.dataset;
      const on =
        (related.up.has(from) || from === key) && (related.up.has(to) || to === key)
          ? true
          : (related.down.has(to) || to === key) && (related.down.has(from) || from === key);
      e.classList.toggle('highlight', on);
      e.classList.toggle('dim', !on);
    }
    panel.hidden = false;
    replace(panel, lineagePanel(asset, statusOf(asset), related, clearSelection));
  }

  function clearSelection() {
    state.selected = null;
    for (const g of nodeEls.values()) g.classList.remove('highlight', 'dim', 'selected');
    for (const e of edgeEls) e.classList.remove('highlight', 'dim');
    panel.hidden = true;
    panel.replaceChildren();
  }

  function paintNode(key) {
    const g = nodeEls.get(key);
    const asset = byKey.get(key);
    if (g && asset) updateNode(g, statusOf(asset), checkStatus(asset));
  }

  /** Refetches states; repaints in place when the same assets come back, else lays out again. */
  async function refresh() {
    try {
      const body = await getJson(`/api/assets${query({ select: state.select })}`, { signal: scope.signal });
      if (!scope.alive) return;
      const sameKeys =
        body.assets.length === state.assets.length &&
        body.assets.every((a, i) => a.key === state.assets[i].key && a.deps.join() === state.assets[i].deps.join());
      setAssets(body.assets);
      if (!sameKeys) {
        fillGroups();
        draw();
        return;
      }
      state.visible = state.group ? state.assets.filter((a) => a.group === state.group) : state.assets;
      for (const a of state.visible) paintNode(a.key);
      if (state.selected) select(state.selected);
    } catch (error) {
      if (error?.name !== 'AbortError') console.warn('refresh failed:', messageOf(error));
    }
  }
  const refreshSoon = debounce(refresh, 800);
  scope.defer(refreshSoon.cancel);
  scope.on('asset', (event) => {
    if (byKey.has(event.key)) refreshSoon();
  });
  scope.every(15_000, () => !live.isLive() && refresh());
  scope.defer(() => document.removeEventListener('keydown', onKey));
  const onKey = (e) => e.key === 'Escape' && clearSelection();
  document.addEventListener('keydown', onKey);

  running.seed(scope.signal).then(
    () => running.keys().forEach((k) => paintNode(k)),
    () => undefined,
  );
  await load();
  if (columnTarget) await loadColumnPath();
}
