// DOM helpers. Text always goes in through textContent or escapeHtml: no unescaped data is
// ever parsed as HTML.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML/SVG markup, in element content and in quoted attributes. */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * Builds an element: `h('a.link', { href: '#/' }, 'text', child)`. The tag may carry `.class`
 * and `#id` suffixes. Attributes: `class`, `dataset` (object), `on` (event → handler), boolean
 * attributes (true/false), anything else via setAttribute; `null`/`undefined` are skipped.
 * Children: nodes, strings (as text), arrays, and null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || 'div');
  for (const part of rest) {
    if (part.startsWith('.')) el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.classList.add(...String(value).split(/\s+/).filter(Boolean));
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === 'text') el.textContent = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children (nodes, text, arrays; null/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link to a hash route; `parts` are encoded path segments joined by `/`. */
export function routeLink(label, route, attrs = {}) {
  return h('a', { href: route, ...attrs }, label);
}

/** The hash route of an asset page (its key's `/` kept as path separators). */
export function assetRoute(key) {
  return `#/assets/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The hash route of a run page. */
export function runRoute(id) {
  return `#/runs/${encodeURIComponent(id)}`;
}

/** A small table: `columns` are `{ label, cell(row) → node|string, class? }`. */
export function table(columns, rows, { rowClass, ...attrs } = {}) {
  return h(
    'table.grid',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { class: c.class }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { class: rowClass?.(row) },
          columns.map((c) => h('td', { class: c.class }, c.cell(row))),
        ),
      ),
    ),
  );
}

/** Calls `fn` at most once per `ms`, after the last call (trailing debounce). */
export function debounce(fn, ms) {
  let timer;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
