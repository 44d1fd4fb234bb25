// Entry point: routes and the live-connection indicator.

import { renderAssetPage } from './asset-page.js';
import { renderBackfillsPage } from './backfills-page.js';
import { h, replace } from './dom.js';
import { renderLineagePage } from './lineage-page.js';
import * as live from './live.js';
import { startRouter } from './router.js';
import { renderRunPage } from './run-page.js';
import { renderRunsPage } from './runs-page.js';

const routes = [
  [/^\/$/, 'lineage', renderLineagePage],
  [/^\/assets\/(.+)$/, 'lineage', (el, [key], scope) => renderAssetPage(el, key, scope)],
  [/^\/runs\/?$/, 'runs', renderRunsPage],
  [/^\/runs\/([^/]+)$/, 'runs', (el, [id], scope) => renderRunPage(el, id, scope)],
  [/^\/backfills\/?$/, 'backfills', renderBackfillsPage],
];

function notFound(container) {
  replace(container, h('div.empty', {}, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the lineage graph'))));
}

const indicator = document.getElementById('live-indicator');
live.onConnection((connected) => {
  indicator.textContent = connected ? 'live' : 'offline';
  indicator.classList.toggle('is-live', connected);
  indicator.title = connected ? 'Receiving live updates' : 'Not receiving live updates: pages refresh by polling';
});

startRouter(document.getElementById('app'), routes, notFound);
