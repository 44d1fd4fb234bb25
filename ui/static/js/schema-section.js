// Schema history: the asset page's Schema section (`GET /api/schema/KEY`: current columns and
// types, then each run that changed them) and the readable detail of a `schema_change` event.

import { h, runRoute, table } from './dom.js';
import { dateTime, shortId } from './format.js';

/** One line per changed column: `+ discount_pct DOUBLE`, `− legacy_code VARCHAR`, `~ amount DECIMAL(10,2) → DOUBLE`. */
export function schemaChangeList(change) {
  const items = [
    ...(change.added ?? []).map((c) => h('li.schema-added', {}, h('code', {}, `+ ${c.name}`), ` ${c.type}`)),
    ...(change.removed ?? []).map((c) => h('li.schema-removed', {}, h('code', {}, `− ${c.name}`), ` ${c.type}`)),
    ...(change.retyped ?? []).map((c) => h('li.schema-retyped', {}, h('code', {}, `~ ${c.name}`), ` ${c.from} → ${c.to}`)),
  ];
  return h('ul.schema-change', { 'data-testid': 'schema-change' }, items);
}

/** The Schema section: current columns with their types, and the history of changes with links to their runs. */
export function schemaSection(schema) {
  const { columns, changes } = schema;
  return h(
    'section.card',
    { 'data-testid': 'schema' },
    h('h2', {}, 'Schema', columns ? h('span.muted', {}, `${columns.length} column${columns.length === 1 ? '' : 's'}`) : null),
    columns === null
      ? h('p.muted', {}, 'No schema recorded yet: the next materialization records it.')
      : table(
          [
            { label: 'Column', cell: (c) => h('code', {}, c.name) },
            { label: 'Type', cell: (c) => h('code', {}, c.type) },
          ],
          columns,
          { 'data-testid': 'schema-columns' },
        ),
    h('h3', {}, 'Changes'),
    changes.length === 0
      ? h('p.muted', {}, 'No change recorded.')
      : table(
          [
            { label: 'Time', cell: (c) => dateTime(c.timestamp), class: 'nowrap' },
            { label: 'Run', cell: (c) => h('a.mono', { href: runRoute(c.runId) }, shortId(c.runId)) },
            { label: 'Change', cell: (c) => schemaChangeList(c) },
          ],
          changes,
          {
            'data-testid': 'schema-changes',
            rowClass: (c) => (c.removed.length > 0 || c.retyped.length > 0 ? 'row-warn' : null),
          },
        ),
  );
}
