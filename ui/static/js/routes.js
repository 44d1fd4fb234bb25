// The pages by hash route: `[pattern, nav name, render(container, params, scope)]` (see
// router.js); dom.js builds the links to them (assetRoute, runRoute).

import { renderAlertsPage } from './alerts-page.js';
import { renderAssetPage } from './asset-page.js';
import { renderBackfillsPage } from './backfills-page.js';
import { renderLineagePage } from './lineage-page.js';
import { renderRunPage } from './run-page.js';
import { renderRunsPage } from './runs-page.js';

export const routes = [
  [/^\/$/, 'lineage', renderLineagePage],
  [/^\/assets\/(.+)$/, 'lineage', (el, [key], scope) => renderAssetPage(el, key, scope)],
  [/^\/runs\/?$/, 'runs', renderRunsPage],
  [/^\/runs\/([^/]+)$/, 'runs', (el, [id], scope) => renderRunPage(el, id, scope)],
  [/^\/backfills\/?$/, 'backfills', renderBackfillsPage],
  [/^\/alerts\/?$/, 'alerts', renderAlertsPage],
];
