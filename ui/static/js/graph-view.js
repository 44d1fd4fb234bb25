// Pan (drag) and zoom (wheel, buttons) of an SVG drawing through the transform of its
// `g.viewport`. A press that moves less than a few pixels stays a click.

const MIN_SCALE = 0.03;
const MAX_SCALE = 3;
const CLICK_SLOP = 4;

/**
 * Makes `svgEl` pannable and zoomable; `size` is the drawing's width and height. Returns
 * `{ fit(), zoomBy(factor), centerOn(x, y), wasDrag() }`.
 */
export function panZoom(svgEl, size) {
  const viewport = svgEl.querySelector('g.viewport');
  let scale = 1;
  let tx = 0;
  let ty = 0;
  let drag = null;
  let dragged = false;
  let frame = 0;

  const apply = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      viewport.setAttribute('transform', `translate(${tx.toFixed(1)},${ty.toFixed(1)}) scale(${scale.toFixed(4)})`);
      svgEl.classList.toggle('zoomed-out', scale < 0.45);
    });
  };

  const zoomAt = (factor, px, py) => {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale * factor));
    tx = px - ((px - tx) * next) / scale;
    ty = py - ((py - ty) * next) / scale;
    scale = next;
    apply();
  };

  svgEl.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = svgEl.getBoundingClientRect();
      const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
      zoomAt(Math.exp(-delta * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    },
    { passive: false },
  );

  svgEl.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, tx, ty, id: event.pointerId };
    dragged = false;
  });
  svgEl.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!dragged && Math.hypot(dx, dy) < CLICK_SLOP) return;
    if (!dragged) {
      dragged = true;
      svgEl.setPointerCapture(event.pointerId);
      svgEl.classList.add('panning');
    }
    tx = drag.tx + dx;
    ty = drag.ty + dy;
    apply();
  });
  const end = (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    drag = null;
    svgEl.classList.remove('panning');
  };
  svgEl.addEventListener('pointerup', end);
  svgEl.addEventListener('pointercancel', end);

  const fit = () => {
    const { width, height } = svgEl.getBoundingClientRect();
    if (!width || !height || !size.width || !size.height) return;
    scale = Math.min(MAX_SCALE, 1.25, Math.max(MIN_SCALE, Math.min((width - 16) / size.width, (height - 16) / size.height)));
    tx = (width - size.width * scale) / 2;
    ty = (height - size.height * scale) / 2;
    apply();
  };

  return {
    fit,
    zoomBy(factor) {
      const { width, height } = svgEl.getBoundingClientRect();
      zoomAt(factor, width / 2, height / 2);
    },
    centerOn(x, y) {
      const { width, height } = svgEl.getBoundingClientRect();
      tx = width / 2 - x * scale;
      ty = height / 2 - y * scale;
      apply();
    },
    /** True when the last press was a drag (so its click must not select). */
    wasDrag: () => dragged,
  };
}
