// Hash routing: `#/`, `#/assets/KEY`, `#/runs`, `#/runs/ID`, `#/backfills`, `#/alerts`. Each page is
// `render(container, params, scope)`; the scope closes (aborting fetches, dropping live
// subscriptions and timers) when the user navigates away.

import * as live from './live.js';

/** What a page may tie to its lifetime. */
export class PageScope {
  #cleanups = [];
  #controller = new AbortController();

  /** Aborted when the page is left: pass to fetches. */
  get signal() {
    return this.#controller.signal;
  }

  get alive() {
    return !this.#controller.signal.aborted;
  }

  /** A live subscription (see live.js) for the page's lifetime. */
  on(type, handler) {
    this.#cleanups.push(live.on(type, (data) => this.alive && handler(data)));
  }

  /** Connection changes of the live stream for the page's lifetime. */
  onConnection(handler) {
    this.#cleanups.push(live.onConnection((value) => this.alive && handler(value)));
  }

  /** setInterval for the page's lifetime. */
  every(ms, fn) {
    const timer = setInterval(() => this.alive && fn(), ms);
    this.#cleanups.push(() => clearInterval(timer));
  }

  /** Any cleanup to run when the page is left. */
  defer(fn) {
    this.#cleanups.push(fn);
  }

  close() {
    this.#controller.abort();
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch (error) {
        console.error(error);
      }
    }
  }
}

/**
 * Starts routing. `routes` are `[pattern RegExp, name, render]`; the groups of the pattern
 * (URI-decoded) are the page's params. Unknown routes show `notFound`.
 */
export function startRouter(container, routes, notFound) {
  let scope = null;
  const show = () => {
    scope?.close();
    scope = new PageScope();
    live.setRunFilter(null);
    container.replaceChildren();
    delete document.body.dataset.ready;
    window.scrollTo(0, 0);
    const route = matchRoute(routes, location.hash);
    markNav(route?.name ?? null);
    if (!route) {
      notFound(container);
      return;
    }
    Promise.resolve(route.render(container, route.params, scope)).catch((error) => {
      console.error(error);
      if (scope.alive) container.append(errorBox(error));
    });
  };
  window.addEventListener('hashchange', show);
  show();
}

/**
 * The route of `hash` (`location.hash`: `#/runs/ID`, `#/?select=x`; empty is `#/`), ignoring
 * its `?query`: `{ name, render, params }` of the first pattern that matches, its groups
 * URI-decoded; `undefined` when none matches or a group is not valid URI encoding.
 */
export function matchRoute(routes, hash) {
  const path = hash.replace(/^#/, '') || '/';
  for (const [pattern, name, render] of routes) {
    const match = pattern.exec(path.split('?')[0]);
    if (!match) continue;
    try {
      return { name, render, params: match.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function markNav(name) {
  for (const link of document.querySelectorAll('.nav a[data-route]')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** A page-level error message. */
export function errorBox(error) {
  const box = document.createElement('div');
  box.className = 'error-box';
  box.setAttribute('role', 'alert');
  box.textContent = error instanceof Error ? error.message : String(error);
  return box;
}
