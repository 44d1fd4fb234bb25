// Entry point: starts routing (the routes are in routes.js) and the live-connection indicator.

import { h, replace } from './dom.js';
import * as live from './live.js';
import { startRouter } from './router.js';
import { routes } from './routes.js';

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
