// The Columns section of the asset page: each output column with its type and the upstream
// columns it comes from (GET /api/column-lineage/KEY), and, for the column chosen, its whole
// path upstream and downstream across assets (?column=COL).

import { getJson, keyPath, query } from './api.js';
import { assetRoute, h, replace, table } from './dom.js';

const KIND_HELP = {
  identity: 'copied as is',
  transformation: 'computed from it',
  aggregation: 'aggregated over it',
};

function columnRef(asset, column, kind) {
  return h(
    'span.column-ref',
    {},
    h('a.mono', { href: assetRoute(asset) }, asset),
    h('span.mono', {}, `.${column}`),
    kind ? h('span.muted', { title: KIND_HELP[kind] ?? kind }, ` (${kind})`) : null,
  );
}

function sourcesCell(c) {
  const known = c.sources.map((s) => h('div', {}, columnRef(s.asset, s.column, s.kind)));
  if (c.unknown) known.push(h('div.text-warned', {}, `unknown: ${c.unknown}`));
  return known.length ? known : h('span.muted', {}, 'no upstream column (a constant or generated value)');
}

/** The asset of `asset.column` (asset keys have no `.`). */
function assetOf(ref) {
  return ref.slice(0, ref.indexOf('.', ref.lastIndexOf('/')));
}

/**
 * The assets and edges (`from\u0000to`) a column's path (`GET /api/column-lineage/KEY?column=`'s
 * `path`) runs through, for highlighting it on the lineage graph.
 */
export function columnPathGraph(key, path) {
  const assets = new Set([key]);
  const edges = new Set();
  for (const hop of path.hops) {
    assets.add(hop.asset);
    edges.add(`${hop.asset}\u0000${assetOf(hop.of)}`);
  }
  for (const hop of [...path.downstream, ...path.downstreamIndirect]) {
    assets.add(hop.asset);
    edges.add(`${assetOf(hop.of)}\u0000${hop.asset}`);
  }
  return { assets, edges };
}

/** A list of hops (`{ asset, column, kind, depth, of }`), each indented by its depth. */
function hopList(hops, empty) {
  if (hops.length === 0) return h('p.muted', {}, empty);
  return h(
    'ul.column-path',
    {},
    hops.map((hop) => h('li', { style: `margin-left: ${(hop.depth - 1) * 1.25}rem`, title: `from ${hop.of}` }, columnRef(hop.asset, hop.column, hop.kind))),
  );
}

function pathView(key, path) {
  return h(
    'div.grid-2',
    { 'data-testid': 'column-path' },
    h('p', {}, h('a', { href: `#/${query({ asset: key, column: path.column })}`, 'data-testid': 'column-path-graph' }, 'Show this path on the lineage graph')),
    h(
      'div',
      {},
      h('h3', {}, `Upstream of ${path.column}`),
      hopList(path.hops, 'no upstream column'),
      path.unknown.map((u) => h('p.text-warned', {}, `${u.asset}.${u.column}: unknown, ${u.reason}`)),
    ),
    h(
      'div',
      {},
      h('h3', {}, `Downstream of ${path.column}`),
      hopList(path.downstream, 'no column is made from it'),
      path.downstreamIndirect.map((u) => h('p.muted', {}, h('a.mono', { href: assetRoute(u.asset) }, u.asset), ` uses it (${u.kind})`)),
    ),
  );
}

/**
 * The Columns section of asset `key`: filled in when its lineage arrives; `signal` aborts the
 * fetches; `descriptions` (column → text, a dbt model's) fill a Description column when any.
 */
export function columnSection(key, signal, descriptions = {}) {
  const body = h('div', {}, h('p.muted', {}, 'Tracing columns…'));
  const path = h('div.column-path-view');
  const section = h('section.card', { 'data-testid': 'asset-columns' }, h('h2', {}, 'Columns'), body, path);

  async function choose(column) {
    replace(path, h('p.muted', {}, `Tracing ${column}…`));
    try {
      const view = await getJson(`${keyPath('/api/column-lineage', key)}${query({ column })}`, { signal });
      replace(path, pathView(key, view.path));
    } catch (error) {
      if (error?.name !== 'AbortError') replace(path, h('p.text-failed', {}, error.message));
    }
  }

  getJson(keyPath('/api/column-lineage', key), { signal }).then(
    (view) => {
      const rows = view.columns ?? [];
      replace(
        body,
        view.columns === null ? h('p.text-warned', {}, `Columns unknown: ${view.unknown ?? 'not traced'}`) : null,
        rows.length
          ? table(
              [
                {
                  label: 'Column',
                  cell: (c) => h('button.link.mono', { type: 'button', title: 'Show its path', on: { click: () => choose(c.name) } }, c.name),
                },
                { label: 'Type', cell: (c) => (c.type ? h('code', {}, c.type) : h('span.muted', {}, '—')) },
                { label: 'Comes from', cell: sourcesCell },
                ...(Object.keys(descriptions).length
                  ? [{ label: 'Description', cell: (c) => (descriptions[c.name] ? h('span', {}, descriptions[c.name]) : h('span.muted', {}, '—')) }]
                  : []),
              ],
              rows,
            )
          : null,
        view.indirect.length
          ? h(
              'p.muted',
              {},
              'Also uses: ',
              view.indirect.map((u, i) => [i ? ', ' : '', columnRef(u.asset, u.column, null), ` (${u.kind})`]),
            )
          : null,
        view.note ? h('p.muted', {}, view.note) : null,
      );
    },
    (error) => {
      if (error?.name !== 'AbortError') replace(body, h('p.text-failed', {}, `Column lineage: ${error.message}`));
    },
  );
  return section;
}
