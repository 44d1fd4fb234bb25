// Draws a laid-out asset graph as SVG markup, built as one string (all text escaped) and
// parsed once: no per-node DOM calls, no layout thrash on 1,000 nodes.

import { escapeHtml } from './dom.js';
import { nodeLabel } from './graph-layout.js';

const r = (n) => Math.round(n * 10) / 10;

/** The `d` of an edge: one cubic for short edges, smoothed through dagre's bend points otherwise. */
function edgePath(points) {
  if (points.length === 0) return '';
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length <= 3) {
    const mid = (first.x + last.x) / 2;
    return `M${r(first.x)},${r(first.y)}C${r(mid)},${r(first.y)} ${r(mid)},${r(last.y)} ${r(last.x)},${r(last.y)}`;
  }
  // Quadratic curves through the midpoints between dagre's bend points: smooth, no overshoot.
  let d = `M${r(first.x)},${r(first.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const next = points[i + 1];
    const end = i === points.length - 2 ? next : { x: (p.x + next.x) / 2, y: (p.y + next.y) / 2 };
    d += `Q${r(p.x)},${r(p.y)} ${r(end.x)},${r(end.y)}`;
  }
  return d;
}

/** Markup of one node group (`g.node` with `data-key`, `data-status`, `data-checks`). */
export function nodeMarkup(asset, box, status, checks) {
  const key = escapeHtml(asset.key);
  const x = r(box.x - box.width / 2);
  const y = r(box.y - box.height / 2);
  const checkMark =
    checks === 'failed' || checks === 'warned'
      ? `<path class="check-marker" d="M${r(box.width - 14)},${r(box.height / 2 + 4)}l5,-9l5,9z"><title>${checks === 'failed' ? 'checks failed' : 'checks warned'}</title></path>`
      : '';
  return (
    `<g class="node" data-key="${key}" data-status="${status}"${checks ? ` data-checks="${checks}"` : ''} transform="translate(${x},${y})">` +
    `<title>${key} — ${status}</title>` +
    `<rect class="node-box" width="${box.width}" height="${box.height}" rx="6" ry="6"></rect>` +
    `<circle class="status-marker" cx="13" cy="${box.height / 2}" r="4.5"></circle>` +
    `<text class="node-label" x="24" y="${r(box.height / 2 + 4)}">${escapeHtml(nodeLabel(asset.key))}</text>` +
    checkMark +
    `</g>`
  );
}

/**
 * The whole `svg#lineage`: an arrow marker, then a `g.viewport` (panned and zoomed) holding
 * `g.edges` and `g.nodes`. `statusOf(asset)` and `checksOf(asset)` give each node's words.
 */
export function graphMarkup(assets, layout, statusOf, checksOf) {
  const parts = [
    `<svg id="lineage" class="lineage-svg" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Asset lineage graph" data-width="${r(layout.width)}" data-height="${r(layout.height)}">`,
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7.5" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L8,4L0,8z" class="arrow-head"></path></marker></defs>',
    '<g class="viewport"><g class="edges">',
  ];
  for (const e of layout.edges) {
    parts.push(
      `<path class="edge${e.check ? ' check' : ''}" data-from="${escapeHtml(e.from)}" data-to="${escapeHtml(e.to)}" d="${edgePath(e.points)}" marker-end="url(#arrow)"></path>`,
    );
  }
  parts.push('</g><g class="nodes">');
  for (const a of assets) {
    const box = layout.nodes.get(a.key);
    if (box) parts.push(nodeMarkup(a, box, statusOf(a), checksOf(a)));
  }
  parts.push('</g></g></svg>');
  return parts.join('');
}

/** Parses graph markup into an SVG element (the markup's data is already escaped). */
export function parseSvg(markup) {
  const holder = document.createElement('div');
  holder.innerHTML = markup;
  return holder.firstElementChild;
}

/** Updates one drawn node's status and check words in place (no relayout). */
export function updateNode(g, status, checks) {
  if (g.dataset.status !== status) {
    g.dataset.status = status;
    const title = g.querySelector(':scope > title');
    if (title) title.textContent = `${g.dataset.key} — ${status}`;
  }
  if ((g.dataset.checks ?? null) !== (checks ?? null)) {
    if (checks) g.dataset.checks = checks;
    else delete g.dataset.checks;
    const box = g.querySelector('rect.node-box');
    let mark = g.querySelector('.check-marker');
    if (checks === 'failed' || checks === 'warned') {
      if (!mark && box) {
        const w = Number(box.getAttribute('width'));
        const hgt = Number(box.getAttribute('height'));
        mark = document.createElementNS('http://www.w3.org/2000/svg', 'path');
        mark.setAttribute('class', 'check-marker');
        mark.setAttribute('d', `M${r(w - 14)},${r(hgt / 2 + 4)}l5,-9l5,9z`);
        mark.append(document.createElementNS('http://www.w3.org/2000/svg', 'title'));
        g.append(mark);
      }
      mark.firstChild.textContent = checks === 'failed' ? 'checks failed' : 'checks warned';
    } else mark?.remove();
  }
}
