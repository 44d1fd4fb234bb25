// The side panel of the lineage page: a summary of the clicked asset.

import { assetRoute, h } from './dom.js';
import { ago, count, dateTime, freshnessText } from './format.js';
import { STATUS_HELP } from './status.js';

/** A `<dl>` row. */
function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

/**
 * The panel for `asset` (a `GET /api/assets` row) drawn with `status`; `related` holds its
 * upstream and downstream key sets; `onClose` clears the selection.
 */
export function lineagePanel(asset, status, related, onClose) {
  const checks = asset.checks;
  const parts = asset.partitions;
  return h(
    'div.panel-body',
    {},
    h(
      'div.panel-head',
      {},
      h('h2.panel-title', { title: asset.key }, asset.key),
      h('button.icon-button', { type: 'button', title: 'Close', 'aria-label': 'Close panel', on: { click: onClose } }, '×'),
    ),
    h('p', {}, h('span.status-pill', { dataset: { status }, title: STATUS_HELP[status] }, status), ' ', h('span.muted', {}, asset.state)),
    asset.description ? h('p.description', {}, asset.description) : null,
    h(
      'dl.facts',
      {},
      row('Kinds', asset.kinds.join(', '), asset.source ? ' (source)' : ''),
      row('Group', asset.group),
      row('Last built', asset.lastMaterializedAt ? h('span', { title: dateTime(asset.lastMaterializedAt) }, ago(asset.lastMaterializedAt)) : 'never'),
      asset.rowCount !== null && asset.rowCount !== undefined ? row('Rows', count(asset.rowCount)) : null,
      typeof asset.stale === 'number' ? row('Stale', asset.partitioned ? `${count(asset.stale)} partitions` : asset.stale > 0 ? 'yes' : 'no') : null,
      asset.freshness
        ? row(
            'Freshness',
            h(asset.freshness.status === 'fresh' ? 'span' : 'span.text-failed', { 'data-testid': 'panel-freshness' }, freshnessText(asset.freshness)),
          )
        : null,
      parts ? row('Partitions', `${count(parts.materialized)} / ${count(parts.total)} built`, parts.failed ? `, ${count(parts.failed)} failed` : '') : null,
      checks
        ? row(
            'Checks',
            `${checks.total} run`,
            checks.failed ? h('span.text-failed', {}, `, ${checks.failed} failed`) : '',
            checks.warned ? h('span.text-warned', {}, `, ${checks.warned} warned`) : '',
            checks.errored ? h('span.text-failed', {}, `, ${checks.errored} could not run`) : '',
          )
        : null,
      row('Upstream', `${related.up.size} asset${related.up.size === 1 ? '' : 's'}`),
      row('Downstream', `${related.down.size} asset${related.down.size === 1 ? '' : 's'}`),
    ),
    h('p', {}, h('a.button', { href: assetRoute(asset.key), 'data-testid': 'panel-open' }, 'Open asset')),
  );
}
