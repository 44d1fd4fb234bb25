// Small SVG charts, built with DOM calls (text goes in as text nodes): a row-count line
// chart over time, and a step timeline (one bar per step).

import { svg } from './dom.js';
import { dateTime, duration, shortCount } from './format.js';

/**
 * A line chart of `points` (`{ t: epoch ms, value: number, label: string }`, any order):
 * time on x, value on y, a dot per point with a tooltip.
 */
export function lineChart(points, { width = 640, height = 160, yLabel = 'rows' } = {}) {
  const data = points.filter((p) => typeof p.value === 'number').sort((a, b) => a.t - b.t);
  const pad = { left: 48, right: 12, top: 10, bottom: 22 };
  const root = svg('svg', { class: 'chart line-chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${yLabel} over time` });
  if (data.length === 0) return root;
  const t0 = data[0].t;
  const t1 = data[data.length - 1].t;
  const vMax = Math.max(...data.map((p) => p.value), 1);
  const x = (t) => (t1 === t0 ? pad.left + (width - pad.left - pad.right) / 2 : pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right));
  const y = (v) => height - pad.bottom - (v / vMax) * (height - pad.top - pad.bottom);

  for (const frac of [0, 0.5, 1]) {
    const v = vMax * frac;
    root.append(svg('line', { class: 'grid-line', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }));
    root.append(svg('text', { class: 'axis-label', x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, shortCount(v)));
  }
  root.append(svg('text', { class: 'axis-label', x: pad.left, y: height - 6 }, dateTime(t0)));
  if (t1 !== t0) root.append(svg('text', { class: 'axis-label', x: width - pad.right, y: height - 6, 'text-anchor': 'end' }, dateTime(t1)));
  if (data.length > 1) root.append(svg('polyline', { class: 'series', points: data.map((p) => `${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ') }));
  for (const p of data) {
    root.append(svg('circle', { class: 'point', cx: x(p.t).toFixed(1), cy: y(p.value).toFixed(1), r: 3.5 }, svg('title', {}, p.label)));
  }
  return root;
}

/**
 * A timeline of `steps` (`{ label, start, end|null, status: running|success|failed|skipped|retry,
 * detail, progress? }`) from `t0` to `t1`: one row per step with a bar from start to end (to `t1`
 * while running, labelled with its percentage when known), failed bars highlighted.
 */
export function stepTimeline(steps, t0, t1, { width = 900 } = {}) {
  const rowH = 20;
  const charW = 7;
  const labelW = Math.min(Math.max(160, width * 0.32), Math.max(120, Math.max(0, ...steps.map((s) => s.label.length)) * charW + 16));
  const maxChars = Math.floor((labelW - 16) / charW);
  const pad = { top: 18, right: 96, bottom: 6 };
  const height = pad.top + steps.length * rowH + pad.bottom;
  const span = Math.max(1, t1 - t0);
  const x = (t) => labelW + ((t - t0) / span) * (width - labelW - pad.right);
  const root = svg('svg', { class: 'chart timeline', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Step timeline' });
  for (const frac of [0, 0.25, 0.5, 0.75, 1]) {
    const gx = labelW + frac * (width - labelW - pad.right);
    root.append(svg('line', { class: 'grid-line', x1: gx, x2: gx, y1: pad.top - 4, y2: height - pad.bottom }));
    root.append(svg('text', { class: 'axis-label', x: gx, y: 11, 'text-anchor': 'middle' }, `+${duration(frac * span)}`));
  }
  steps.forEach((s, i) => {
    const top = pad.top + i * rowH;
    const end = s.end ?? t1;
    const bx = x(s.start);
    const bw = Math.max(2, x(end) - bx);
    const row = svg('g', { class: `timeline-row status-${s.status}` });
    row.append(
      svg(
        'text',
        { class: 'step-label', x: labelW - 8, y: top + 14, 'text-anchor': 'end' },
        s.label.length > maxChars ? `…${s.label.slice(-(maxChars - 1))}` : s.label,
      ),
    );
    row.append(
      svg(
        'rect',
        { class: 'bar', x: bx.toFixed(1), y: top + 3, width: bw.toFixed(1), height: rowH - 7, rx: 3 },
        svg('title', {}, `${s.label}: ${s.status}, ${duration(end - s.start)}${s.detail ? `\n${s.detail}` : ''}`),
      ),
    );
    const percent = s.status === 'running' && typeof s.progress === 'number' ? ` · ${Math.floor(s.progress)}%` : '';
    row.append(
      svg(
        'text',
        { class: 'bar-label', x: (bx + bw + 4).toFixed(1), y: top + 14, ...(percent ? { 'data-testid': 'step-progress' } : {}) },
        `${duration(end - s.start)}${percent}`,
      ),
    );
    root.append(row);
  });
  return root;
}
