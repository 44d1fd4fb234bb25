// Sections of the asset page: definition, partition health, materialization history,
// check results (with failing-row samples) and code.

import { assetRoute, h, runRoute, table } from './dom.js';
import { lineChart } from './charts.js';
import { count, dateTime, shortId, writeSummaryText } from './format.js';

function facts(rows) {
  return h(
    'dl.facts',
    {},
    rows.filter(Boolean).map(([label, ...value]) => [h('dt', {}, label), h('dd', {}, ...value)]),
  );
}

function keyList(keys, empty) {
  if (keys.length === 0) return h('span.muted', {}, empty);
  return h(
    'ul.key-list',
    {},
    keys.map((k) => h('li', {}, h('a.mono', { href: assetRoute(k) }, k))),
  );
}

/** Kinds, group, owners, tags, file, versions, partitions; deps and dependents as links. */
export function definitionSection(d) {
  const tags = Object.entries(d.tags ?? {});
  return h(
    'section.card',
    {},
    h('h2', {}, 'Definition'),
    facts([
      [
        'Kinds',
        h(
          'span',
          { 'data-testid': 'asset-kinds' },
          d.kinds.map((k) => h('span.tag', {}, k)),
        ),
        d.source ? ' (source asset)' : '',
      ],
      ['Group', d.group],
      ['Compute', d.compute, d.materialization ? ` → ${d.materialization}` : ''],
      ['Owners', d.owners.length ? d.owners.join(', ') : h('span.muted', {}, 'none')],
      ['Tags', tags.length ? tags.map(([k, v]) => h('span.tag', {}, v === '' ? k : `${k}=${v}`)) : h('span.muted', {}, 'none')],
      d.file ? ['File', h('code', {}, d.file)] : null,
      d.codeVersion ? ['Code version', h('code', {}, d.codeVersion)] : null,
      d.partitions ? ['Partitions', h('code', {}, d.partitions)] : null,
      d.partitionColumn ? ['Partition column', h('code', {}, d.partitionColumn)] : null,
    ]),
    h(
      'div.grid-2',
      {},
      h('div', {}, h('h3', {}, `Upstream (${d.deps.length})`), keyList(d.deps, 'none: a root asset')),
      h('div', {}, h('h3', {}, `Downstream (${d.dependents.length})`), keyList(d.dependents, 'none')),
    ),
  );
}

/** States of the health bar, in legend order. */
const HEALTH = ['fresh', 'stale', 'missing', 'failed'];

/**
 * The partition health bar: one cell per partition, coloured by its state, then the counts,
 * the ranges of missing partitions and the failed ones. `health` is `GET /api/partitions/KEY`:
 * `{ cells: [{ partition, state: fresh|stale|missing|failed, rowCount, materializedAt }], counts, missingRanges }`.
 */
export function partitionSection(health) {
  const { cells, counts, missingRanges } = health;
  const bar = h('div.partition-bar', { role: 'img', 'aria-label': `${cells.length} partitions by state`, 'data-testid': 'partition-bar' });
  const width = Math.max(2, Math.min(14, Math.floor(900 / Math.max(1, cells.length))));
  for (const c of cells) {
    const rows = c.rowCount === null ? '' : `, ${count(c.rowCount)} rows`;
    const cell = h('span.partition-cell', {
      dataset: { state: c.state, partition: c.partition },
      title: `${c.partition}: ${c.state}${rows}${c.materializedAt ? `, built ${dateTime(c.materializedAt)}` : ''}`,
    });
    cell.style.width = `${width}px`;
    bar.append(cell);
  }
  const legend = h(
    'p.partition-counts',
    {},
    HEALTH.map((state) => [h('span.legend-swatch', { dataset: { state } }), `${count(counts[state])} ${state} `]),
    h('span.muted', {}, `of ${count(cells.length)}`),
  );
  const body = [bar, legend];
  if (missingRanges.length) {
    body.push(
      h('h3', {}, 'Missing ranges'),
      h(
        'ul.range-list',
        { 'data-testid': 'missing-ranges' },
        missingRanges.map((r) => h('li', {}, h('code', {}, r.from === r.to ? r.from : `${r.from} … ${r.to}`), h('span.muted', {}, ` (${count(r.count)})`))),
      ),
    );
  }
  const failed = cells.filter((c) => c.state === 'failed').map((c) => c.partition);
  if (failed.length) {
    body.push(
      h('h3', {}, 'Failed partitions'),
      h(
        'p',
        {},
        failed.slice(0, 60).map((p) => h('code.failed-partition', {}, p)),
        failed.length > 60 ? ` … and ${failed.length - 60} more` : '',
      ),
    );
  }
  return h('section.card', {}, h('h2', {}, 'Partitions'), body);
}

/**
 * The history chart and table: one point per run (`runs` of `GET /api/history/KEY`, newest first);
 * for incremental assets and snapshots, what each run's write did.
 */
export function historySection(runs) {
  const list = runs;
  // Incremental assets and snapshots: what each run's write did.
  const withWrites = list.some((r) => writeSummaryText(r.metadata) !== null);
  const partitionsText = (r) =>
    r.firstPartition === null ? '–' : r.partitions === 1 ? r.firstPartition : `${r.firstPartition} … ${r.lastPartition} (${count(r.partitions)})`;
  return h(
    'section.card',
    {},
    h('h2', {}, 'Materializations', h('span.muted', {}, `${list.length} run${list.length === 1 ? '' : 's'}`)),
    list.length === 0
      ? h('p.muted', {}, 'Never materialized.')
      : [
          list.length > 1
            ? lineChart(
                list.map((r) => ({
                  t: r.timestamp,
                  value: r.rowCount,
                  label: `${dateTime(r.timestamp)}: ${count(r.rowCount)} rows (run ${shortId(r.runId)})`,
                })),
              )
            : null,
          table(
            [
              { label: 'Time', cell: (r) => dateTime(r.timestamp), class: 'nowrap' },
              { label: 'Run', cell: (r) => h('a.mono', { href: runRoute(r.runId) }, shortId(r.runId)) },
              { label: 'Partitions', cell: partitionsText },
              { label: 'Rows', cell: (r) => count(r.rowCount), class: 'num' },
              withWrites ? { label: 'Write', cell: (r) => writeSummaryText(r.metadata) ?? '–' } : null,
              { label: 'Code version', cell: (r) => h('code', {}, r.codeVersion) },
            ].filter(Boolean),
            list.slice(0, 50),
            { 'data-testid': 'history-table' },
          ),
        ],
  );
}

/** Each check summed up over its latest result per partition (`GET /api/assets/KEY` checks), with one failing sample. */
export function checksSection(checks) {
  if (checks.length === 0) return h('section.card', {}, h('h2', {}, 'Checks'), h('p.muted', {}, 'No checks defined.'));
  return h(
    'section.card',
    { 'data-testid': 'checks' },
    h('h2', {}, 'Checks'),
    table(
      [
        { label: 'Check', cell: (c) => h('code', {}, c.name) },
        { label: 'Severity', cell: (c) => `${c.severity}${c.blocking ? ', blocking' : ''}` },
        { label: 'Outcome', cell: (c) => h('span.check-outcome', { dataset: { outcome: c.outcome } }, c.outcome) },
        {
          label: 'Violations',
          cell: (c) => (c.error ? h('span.text-failed', { title: c.error }, 'could not run') : c.results ? count(c.violations) : '–'),
          class: 'num',
        },
        { label: 'Partitions', cell: (c) => (c.results > 1 ? `${count(c.failing)} of ${count(c.results)} failing` : (c.latest?.partition ?? '–')) },
        { label: 'Last run', cell: (c) => (c.lastRunAt ? dateTime(c.lastRunAt) : '–'), class: 'nowrap' },
      ],
      checks,
      { rowClass: (c) => (c.outcome === 'failed' || c.outcome === 'error' ? 'row-error' : c.outcome === 'warned' ? 'row-warn' : null) },
    ),
    checks.filter((c) => c.error).map((c) => h('p.text-failed', { 'data-testid': 'check-error' }, h('code', {}, c.name), ` could not run: ${c.error}`)),
    checks.filter((c) => !c.error && c.failingExample).map((c) => failingSample(c)),
  );
}

function failingSample(check) {
  const example = check.failingExample;
  const sample = example.sample ?? [];
  const columns = [...new Set(sample.flatMap((row) => Object.keys(row)))];
  return h(
    'details.check-sample',
    { open: true },
    h(
      'summary',
      {},
      h('code', {}, check.name),
      ` — ${count(check.violations)} violation${check.violations === 1 ? '' : 's'}${example.partition ? ` (e.g. partition ${example.partition})` : ''}`,
    ),
    sample.length === 0
      ? h('p.muted', {}, 'No sample rows recorded.')
      : table(
          columns.map((col) => ({ label: col, cell: (row) => formatCell(row[col]) })),
          sample,
          { class: 'sample-table', 'data-testid': 'check-sample' },
        ),
    example.sql ? h('details.check-sql', {}, h('summary', {}, 'Check SQL'), h('pre', {}, example.sql)) : null,
  );
}

function formatCell(value) {
  if (value === null || value === undefined) return h('span.null', {}, 'null');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The asset's SQL. */
export function codeSection(d) {
  if (!d.sql) return null;
  return h('section.card', {}, h('h2', {}, 'SQL', d.file ? h('span.muted.mono', {}, d.file) : null), h('pre.sql', { 'data-testid': 'asset-sql' }, d.sql));
}
