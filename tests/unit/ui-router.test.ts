/**
 * The web UI's hash routes (ui/static/js/routes.js, matched by router.js's matchRoute): every
 * page's route is recognised, the links dom.js builds to assets and runs lead back to the same
 * key or id whatever characters it holds, and anything else is "not found".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assetRoute, runRoute } from '../../ui/static/js/dom.js';
import { matchRoute } from '../../ui/static/js/router.js';
import { routes } from '../../ui/static/js/routes.js';

const route = (hash: string) => matchRoute(routes, hash);

/** The page a hash shows, by its route's render function (the same for the same page). */
const pageOf = (hash: string) => route(hash)?.render;

describe('matchRoute on the UI routes', () => {
  it('recognises every page: lineage, asset, runs, run, backfills, alerts, each with its own render', () => {
    const pages = ['#/', '#/assets/raw/orders', '#/runs', '#/runs/0f3c9a2e', '#/backfills', '#/alerts'];
    expect(pages.map((hash) => route(hash)?.name)).toEqual(['lineage', 'lineage', 'runs', 'runs', 'backfills', 'alerts']);
    expect(new Set(pages.map(pageOf)).size).toBe(pages.length);
    expect(routes).toHaveLength(pages.length);
  });

  it('reads the lineage page from an empty hash, and leaves query strings to the page', () => {
    for (const hash of ['', '#', '#/?select=marts%2F*&group=raw']) expect(pageOf(hash)).toBe(pageOf('#/'));
    for (const hash of ['#/runs/', '#/runs?status=failed&offset=25']) expect(pageOf(hash)).toBe(pageOf('#/runs'));
    expect(pageOf('#/backfills/')).toBe(pageOf('#/backfills'));
    expect(route('#/assets/raw/orders?tab=checks')?.params).toEqual(['raw/orders']);
  });

  it('finds no route for unknown paths, empty keys and ids, or a key that is not valid URI encoding', () => {
    for (const hash of ['#/nope', '#/assets/', '#/runs/a/b', '#/backfills/x', '#/assets/%E0%A4%A', 'runs']) {
      expect(route(hash), hash).toBeUndefined();
    }
  });
});

describe('links built by dom.js', () => {
  const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/'));

  it('an asset link leads to the asset page with the same key', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const key = segments.join('/');
        const found = route(assetRoute(key));
        return found !== undefined && found.render === pageOf('#/assets/x') && found.params.length === 1 && found.params[0] === key;
      }),
    );
    expect(assetRoute('raw/odd key?#%')).toBe('#/assets/raw/odd%20key%3F%23%25');
  });

  it('a run link leads to the run page with the same id', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (id) => {
        const found = route(runRoute(id));
        return found !== undefined && found.render === pageOf('#/runs/x') && found.params[0] === id;
      }),
    );
  });
});
