"""The interactive result view: the display-size image with its boxes drawn by the browser, and the
lines table. Two `gr.HTML` components that talk to each other in the page (no server round trip):

- `ResultExplorer`: the clean display-size JPEG with an SVG overlay of the shown lines' polygons (in
  display pixels, the image's own coordinate system, so boxes stay exact at every zoom). Hover a box
  for its text and confidence, click it to select its row; zoom with the wheel, a pinch, the buttons
  or the keyboard (+ - 0), pan by dragging or with the arrow keys.
- `LinesTable`: a plain HTML table (#, text, confidence). Click a row, or move with the arrow keys,
  to highlight its box; selecting a box selects and scrolls to its row.

Both take the dict made by `handlers.explorer_data` (plus the image as a FileData dict for the
explorer). Untrusted text (what the OCR read) only ever reaches the page through `textContent` /
SVG text nodes, never as markup. Neither component is an input of any event, so no value ever
comes back from the browser.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

SELECT_EVENT = "ocr-line-select"  # a DOM CustomEvent on `document`: {n: line number, from: "image" | "table"}

_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "description": "line number (1-based, as in the JSON)"},
        "text": {"type": "string"},
        "confidence": {"type": "string", "description": "shown confidence, 3 decimals, rounded down"},
        "points": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}},
            "description": "polygon in DISPLAY pixels",
        },
    },
}

_SHARED_JS = """
const el = (tag, cls, parent) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
};
"""

EXPLORER_JS = (
    _SHARED_JS
    + """
const NS = 'http://www.w3.org/2000/svg';
const S = {scale: 1, min: 1, max: 8, tx: 0, ty: 0, W: 0, H: 0, sel: null, vw: 0, vh: 0};
const pointers = new Map();
let drag = null, pinch = null, view = null, stage = null, svg = null, tip = null, zoomLabel = null;
const sv = (tag, attrs, parent) => {
  const node = document.createElementNS(NS, tag);
  for (const key in attrs) node.setAttribute(key, attrs[key]);
  if (parent) parent.appendChild(node);
  return node;
};

function host() { return element.querySelector('.ocrx') || element; }

let shown = null;  // what the last build showed, so a re-draw of the same image keeps zoom and selection

function build() {
  const root = host();
  const data = props.value;
  const keep = shown && data && data.image && shown.name === data.name && shown.W === data.width
    && shown.H === data.height ? {scale: S.scale, tx: S.tx, ty: S.ty, zoomed: S.scale > S.min * 1.001, sel: S.sel} : null;
  root.replaceChildren();
  root.classList.remove('ocrx-noboxes');
  S.sel = null;
  shown = data && data.image ? {name: data.name, W: data.width, H: data.height} : null;
  if (!data || !data.image || !data.image.url) {
    const empty = el('p', 'ocrx-empty', root);
    empty.textContent = 'The image with its text boxes appears here after you press Run OCR.';
    view = null;
    return;
  }
  S.W = data.width; S.H = data.height;
  const bar = el('div', 'ocrx-bar', root);
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Zoom');
  const button = (text, label, action, cls) => {
    const b = el('button', 'ocrx-btn' + (cls ? ' ' + cls : ''), bar);
    b.type = 'button'; b.textContent = text; b.title = label; b.setAttribute('aria-label', label);
    b.addEventListener('click', action);
    return b;
  };
  button('\u2212', 'Zoom out', () => zoomAt(1 / 1.5), 'ocrx-out');
  button('+', 'Zoom in', () => zoomAt(1.5), 'ocrx-in');
  button('Fit', 'Reset: fit the whole image', () => fit(), 'ocrx-fit');
  const boxes = button('Boxes', 'Show or hide the boxes (see the original image)', () => {
    const hidden = root.classList.toggle('ocrx-noboxes');
    boxes.setAttribute('aria-pressed', String(!hidden));
    if (hidden) hideTip();
  }, 'ocrx-boxes');
  boxes.setAttribute('aria-pressed', 'true');
  if (root.requestFullscreen) {
    const full = button('', 'Full screen', () => {
      if (document.fullscreenElement) document.exitFullscreen(); else root.requestFullscreen().catch(() => {});
    }, 'ocrx-full');
    const icon = sv('svg', {viewBox: '0 0 24 24', width: 20, height: 20, 'aria-hidden': 'true'}, full);
    sv('path', {d: 'M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2}, icon);
  }
  zoomLabel = el('span', 'ocrx-zoom', bar);
  const hint = el('span', 'ocrx-hint', bar);
  hint.textContent = 'Wheel or pinch to zoom, drag to pan. Hover or tap a box to read it.';
  view = el('div', 'ocrx-view', root);
  view.tabIndex = 0;
  view.setAttribute('role', 'group');
  view.setAttribute('aria-label', 'Result image. Keys: + and - zoom, 0 fits, arrow keys pan.');
  stage = el('div', 'ocrx-stage', view);
  stage.style.width = S.W + 'px'; stage.style.height = S.H + 'px';
  const img = el('img', 'ocrx-img', stage);
  img.alt = data.alt || '';
  img.width = S.W; img.height = S.H; img.draggable = false;
  img.src = data.image.url;
  svg = sv('svg', {viewBox: '0 0 ' + S.W + ' ' + S.H, width: S.W, height: S.H, class: 'ocrx-svg'}, stage);
  svg.setAttribute('aria-hidden', 'true');
  const tagSize = Math.max(11, Math.round(Math.max(S.W, S.H) / 70));
  const placed = [];
  const lines = data.lines || [];
  const tags = sv('g', {class: 'ocrx-tags'});
  for (const line of lines) {
    const xs = line.points.map(p => p[0]), ys = line.points.map(p => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const g = sv('g', {class: 'ocrx-line', 'data-n': line.n}, svg);
    const pts = line.points.map(p => p[0] + ',' + p[1]).join(' ');
    const title = sv('title', {}, g);
    title.textContent = '#' + line.n + ': ' + line.text + ' (confidence ' + line.confidence + ')';
    sv('polygon', {points: pts, class: 'ocrx-halo'}, g);
    sv('polygon', {points: pts, class: 'ocrx-box'}, g);
    if (data.show_text && line.text) {
      const h = y1 - y0, w = Math.max(1, x1 - x0 - 2);
      sv('polygon', {points: pts, class: 'ocrx-band'}, g);
      const t = sv('text', {x: x0 + 1, y: y0 + h * 0.78, 'font-size': Math.max(4, h * 0.75), class: 'ocrx-text'}, g);
      t.textContent = line.text;
      if (t.getComputedTextLength && t.getComputedTextLength() > w) {
        t.setAttribute('textLength', w); t.setAttribute('lengthAdjust', 'spacingAndGlyphs');
      }
    }
    // number tag: left of the box, else inside, above or below; never closer than 3 px to another tag
    const tw = tagSize * 0.62 * String(line.n).length + 6, th = tagSize + 4;
    const spots = [[x0 - tw - 1, y0], [x0, y0], [x0, y0 - th - 1], [x0, y1 + 1]].map(([x, y]) => [
      Math.min(Math.max(0, x), Math.max(0, S.W - tw)), Math.min(Math.max(0, y), Math.max(0, S.H - th))]);
    const free = spots.find(([x, y]) => !placed.some(r => x < r[2] + 3 && r[0] < x + tw + 3 && y < r[3] + 3 && r[1] < y + th + 3));
    const [tx, ty] = free || spots[0];
    placed.push([tx, ty, tx + tw, ty + th]);
    const tag = sv('g', {class: 'ocrx-tag', 'data-n': line.n}, tags);
    sv('rect', {x: tx, y: ty, width: tw, height: th, rx: 2}, tag);
    const label = sv('text', {x: tx + 3, y: ty + th - 4, 'font-size': tagSize}, tag);
    label.textContent = String(line.n);
  }
  svg.appendChild(tags);
  tip = el('div', 'ocrx-tip', root);
  tip.hidden = true;
  tip.setAttribute('role', 'status');
  tip.setAttribute('aria-live', 'polite');
  view.addEventListener('wheel', onWheel, {passive: false});
  view.addEventListener('pointerdown', onDown);
  view.addEventListener('pointermove', onMove);
  view.addEventListener('pointerup', onUp);
  view.addEventListener('pointercancel', onCancel);
  view.addEventListener('pointerleave', e => { if (e.pointerType === 'mouse') hideTip(); });
  view.addEventListener('keydown', onKey);
  fit();
  if (keep && keep.zoomed) { S.scale = Math.min(S.max, Math.max(S.min, keep.scale)); S.tx = keep.tx; S.ty = keep.ty; apply(); }
  if (keep && keep.sel !== null && lineData(keep.sel)) select(keep.sel, 'restore');
}

function measure() {
  S.vw = Math.max(1, view.clientWidth);
  const full = document.fullscreenElement === host();
  const maxHeight = full ? Math.max(160, window.innerHeight - view.offsetTop - 8) : Math.max(240, Math.round(window.innerHeight * 0.72));
  S.vh = full ? maxHeight : Math.max(160, Math.min(maxHeight, Math.round(S.H * S.vw / S.W)));
  view.style.height = S.vh + 'px';
}

function fit() {
  if (!view) return;
  measure();
  S.min = Math.min(S.vw / S.W, S.vh / S.H);
  S.max = Math.max(4, S.min * 8);
  S.scale = S.min;
  apply();
}

function apply() {
  const sw = S.W * S.scale, sh = S.H * S.scale;
  S.tx = sw <= S.vw ? (S.vw - sw) / 2 : Math.min(0, Math.max(S.vw - sw, S.tx));
  S.ty = sh <= S.vh ? (S.vh - sh) / 2 : Math.min(0, Math.max(S.vh - sh, S.ty));
  stage.style.transform = 'translate(' + S.tx + 'px,' + S.ty + 'px) scale(' + S.scale + ')';
  const zoomed = S.scale > S.min * 1.001;
  view.classList.toggle('zoomed', zoomed);
  // not zoomed: a one-finger swipe scrolls the page; zoomed: it pans the image
  view.style.touchAction = zoomed ? 'none' : 'pan-y';
  zoomLabel.textContent = Math.round(S.scale * 100) + '%';
  element.dataset.scale = S.scale.toFixed(4);
  if (S.sel !== null) placeTipOnLine(S.sel);
}

function zoomAt(factor, px, py) {
  if (!view) return;
  if (px === undefined) { px = S.vw / 2; py = S.vh / 2; }
  const next = Math.min(S.max, Math.max(S.min, S.scale * factor));
  S.tx = px - (px - S.tx) * (next / S.scale);
  S.ty = py - (py - S.ty) * (next / S.scale);
  S.scale = next;
  apply();
}

function local(e) {
  const r = view.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}

function onWheel(e) {
  const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.002));
  if (factor < 1 && S.scale <= S.min * 1.001) return;  // fully zoomed out: let the page scroll
  e.preventDefault();
  const [x, y] = local(e);
  zoomAt(factor, x, y);
}

function lineOf(target) {
  const g = target && target.closest ? target.closest('.ocrx-line, .ocrx-tag') : null;
  return g ? Number(g.dataset.n) : null;
}

function onDown(e) {
  pointers.set(e.pointerId, local(e));
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    pinch = {d: Math.hypot(a[0] - b[0], a[1] - b[1]) || 1};
    drag = null;
  } else if (pointers.size === 1) {
    const [x, y] = local(e);
    drag = {x, y, tx: S.tx, ty: S.ty, n: lineOf(e.target), moved: false};
  }
}

function onMove(e) {
  if (pointers.has(e.pointerId)) pointers.set(e.pointerId, local(e));
  if (pinch && pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    const d = Math.hypot(a[0] - b[0], a[1] - b[1]) || 1;
    zoomAt(d / pinch.d, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
    pinch.d = d;
    e.preventDefault();
    return;
  }
  if (drag) {
    const [x, y] = local(e);
    if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 4) drag.moved = true;
    if (drag.moved) {
      S.tx = drag.tx + x - drag.x; S.ty = drag.ty + y - drag.y;
      apply();
      view.classList.add('panning');
    }
    return;
  }
  if (e.pointerType === 'mouse') {
    const n = lineOf(e.target);
    if (n !== null) showTip(n, ...local(e)); else if (S.sel === null) hideTip();
  }
}

function onUp(e) {
  pointers.delete(e.pointerId);
  if (pointers.size < 2) pinch = null;
  if (drag && !drag.moved && drag.n !== null) select(drag.n, 'image');
  if (pointers.size === 0) { drag = null; view.classList.remove('panning'); }
}

function onCancel(e) {
  pointers.delete(e.pointerId);
  if (pointers.size < 2) pinch = null;
  if (pointers.size === 0) { drag = null; view.classList.remove('panning'); }
}

function onKey(e) {
  const step = 60;
  const keys = {
    '+': () => zoomAt(1.5), '=': () => zoomAt(1.5), '-': () => zoomAt(1 / 1.5), '0': () => fit(),
    ArrowLeft: () => { S.tx += step; apply(); }, ArrowRight: () => { S.tx -= step; apply(); },
    ArrowUp: () => { S.ty += step; apply(); }, ArrowDown: () => { S.ty -= step; apply(); },
  };
  if (keys[e.key] && (e.key.startsWith('Arrow') ? S.scale > S.min * 1.001 : true)) {
    e.preventDefault();
    keys[e.key]();
  }
}

function lineData(n) {
  const data = props.value;
  return data && data.lines ? data.lines.find(line => line.n === n) : null;
}

function showTip(n, x, y) {
  const line = lineData(n);
  if (!line || !tip) return;
  tip.replaceChildren();
  const head = el('strong', null, tip);
  head.textContent = '#' + line.n + '  ';
  const text = el('span', 'ocrx-tip-text', tip);
  text.textContent = line.text;
  const conf = el('span', 'ocrx-tip-conf', tip);
  conf.textContent = 'confidence ' + line.confidence;
  tip.hidden = false;
  const offset = view.offsetTop;
  const left = Math.max(0, Math.min(x + 12, S.vw - tip.offsetWidth - 2));
  let top = y + offset + 16;
  if (top + tip.offsetHeight > offset + S.vh) top = Math.max(offset, y + offset - tip.offsetHeight - 12);
  tip.style.left = left + 'px';
  tip.style.top = top + 'px';
}

function hideTip() { if (tip) tip.hidden = true; }

function placeTipOnLine(n) {
  const line = lineData(n);
  if (!line || !view) return;
  const xs = line.points.map(p => p[0]), ys = line.points.map(p => p[1]);
  const x = Math.min(...xs) * S.scale + S.tx, y = Math.max(...ys) * S.scale + S.ty;
  if (y < 0 || y > S.vh || x > S.vw) { hideTip(); return; }
  showTip(n, Math.max(0, x), y - 12);
}

function select(n, from) {
  if (!view) return;
  S.sel = n;
  svg.querySelectorAll('.sel').forEach(node => node.classList.remove('sel'));
  const g = svg.querySelector('.ocrx-line[data-n="' + n + '"]');
  const tag = svg.querySelector('.ocrx-tag[data-n="' + n + '"]');
  if (!g) { hideTip(); return; }
  g.classList.add('sel');
  if (tag) tag.classList.add('sel');
  svg.insertBefore(g, svg.querySelector('.ocrx-tags'));  // drawn above the other boxes
  element.dataset.selected = String(n);
  if (from !== 'image' && from !== 'restore') {
    // bring the box into the viewport (pan), and the viewport onto the screen (mobile)
    const line = lineData(n);
    const xs = line.points.map(p => p[0]), ys = line.points.map(p => p[1]);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const sx = cx * S.scale + S.tx, sy = cy * S.scale + S.ty;
    if (sx < 0 || sx > S.vw || sy < 0 || sy > S.vh) {
      S.tx = S.vw / 2 - cx * S.scale; S.ty = S.vh / 2 - cy * S.scale;
      apply();
    }
    const r = view.getBoundingClientRect();
    const boxTop = r.top + Math.min(...ys) * S.scale + S.ty, boxBottom = r.top + Math.max(...ys) * S.scale + S.ty;
    if (boxTop < 0 || boxBottom > window.innerHeight) view.scrollIntoView({block: 'center', behavior: 'smooth'});
  }
  placeTipOnLine(n);
  if (from === 'image') document.dispatchEvent(new CustomEvent('ocr-line-select', {detail: {n, from}}));
}

document.addEventListener('ocr-line-select', e => { if (e.detail.from !== 'image') select(e.detail.n, e.detail.from); });
document.addEventListener('fullscreenchange', () => { if (view) requestAnimationFrame(fit); });
window.addEventListener('resize', () => { if (view && S.scale <= S.min * 1.001) fit(); else if (view) { measure(); apply(); } });
watch('value', build);
build();
"""
)

TABLE_JS = (
    _SHARED_JS
    + """
let body = null, wrap = null, current = null, shownName = null;

function build() {
  const root = element.querySelector('.ocrt') || element;
  root.replaceChildren();
  const data = props.value;
  const lines = (data && data.lines) || [];
  // a re-draw of the same result (filter, text on image) keeps the selected line
  const keep = current && data && data.name === shownName ? Number(current.dataset.n) : null;
  shownName = data ? data.name : null;
  body = null; current = null;
  if (!lines.length) {
    const empty = el('p', 'ocrt-empty', root);
    empty.textContent = data ? 'No lines to show at this confidence.' : 'The lines appear here after you press Run OCR.';
    return;
  }
  wrap = el('div', 'ocrt-scroll', root);
  const table = el('table', 'ocrt-table', wrap);
  const caption = el('caption', 'ocrt-caption', table);
  caption.textContent = 'Lines found. Click a row or move with the arrow keys to highlight its box on the image.';
  const head = el('tr', null, el('thead', null, table));
  for (const [text, cls] of [['#', 'ocrt-n'], ['Text', 'ocrt-text'], ['Confidence', 'ocrt-conf']]) {
    const th = el('th', cls, head);
    th.scope = 'col';
    th.textContent = text;
  }
  body = el('tbody', null, table);
  lines.forEach((line, i) => {
    const row = el('tr', 'ocrt-row', body);
    row.dataset.n = line.n;
    row.tabIndex = i === 0 ? 0 : -1;
    row.setAttribute('aria-selected', 'false');
    for (const [value, cls] of [[String(line.n), 'ocrt-n'], [line.text, 'ocrt-text'], [line.confidence, 'ocrt-conf']]) {
      const td = el('td', cls, row);
      td.textContent = value;
    }
  });
  if (keep !== null && rowOf(keep)) select(keep, 'restore', false);
}

function rowOf(n) { return body ? body.querySelector('tr[data-n="' + n + '"]') : null; }

function select(n, from, focus) {
  const row = rowOf(n);
  if (!row) return;
  if (current && current !== row) { current.classList.remove('sel'); current.setAttribute('aria-selected', 'false'); current.tabIndex = -1; }
  current = row;
  row.classList.add('sel');
  row.setAttribute('aria-selected', 'true');
  row.tabIndex = 0;
  element.dataset.selected = String(n);
  // scroll inside the table only (never the page), so the image stays where it is
  const top = row.offsetTop - wrap.querySelector('thead').offsetHeight;
  if (top < wrap.scrollTop || row.offsetTop + row.offsetHeight > wrap.scrollTop + wrap.clientHeight) {
    wrap.scrollTop = Math.max(0, top - wrap.clientHeight / 3);
  }
  if (focus) row.focus({preventScroll: true});
  if (from === 'table') document.dispatchEvent(new CustomEvent('ocr-line-select', {detail: {n, from}}));
}

element.addEventListener('click', e => {
  const row = e.target.closest && e.target.closest('tr.ocrt-row');
  if (row) select(Number(row.dataset.n), 'table', true);
});
element.addEventListener('keydown', e => {
  const row = e.target.closest && e.target.closest('tr.ocrt-row');
  if (!row || !body) return;
  const rows = [...body.rows];
  const at = rows.indexOf(row);
  const moves = {ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1, PageDown: at + 10, PageUp: at - 10};
  if (e.key in moves) {
    e.preventDefault();
    const next = rows[Math.max(0, Math.min(rows.length - 1, moves[e.key]))];
    select(Number(next.dataset.n), 'table', true);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    select(Number(row.dataset.n), 'table', true);
  }
});
document.addEventListener('ocr-line-select', e => { if (e.detail.from !== 'table') select(e.detail.n, e.detail.from, false); });
watch('value', build);
build();
"""
)

EXPLORER_CSS = """
.ocrx { position: relative; }
.ocrx:fullscreen { background: var(--background-fill-primary); padding: 8px; overflow: auto; }
.ocrx-empty, .ocrt-empty { margin: 0; padding: 12px 4px; color: var(--body-text-color); min-height: 1.5em; }
.ocrx-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 6px; }
.ocrx-btn { min-width: 44px; min-height: 44px; padding: 0 10px; font-size: 18px; font-weight: 600; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); cursor: pointer; }
.ocrx-btn:focus-visible, .ocrx-view:focus-visible, .ocrt-row:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.ocrx-zoom { min-width: 4.5em; font-variant-numeric: tabular-nums; color: var(--body-text-color); }
.ocrx-hint { font-size: 13px; color: var(--body-text-color); }
.ocrx-view { position: relative; overflow: hidden; width: 100%; border-radius: 8px; cursor: grab; user-select: none;
  background: repeating-conic-gradient(#e5e7eb 0% 25%, #f8fafc 0% 50%) 50% / 20px 20px; touch-action: pan-y; }
.ocrx-view.panning { cursor: grabbing; }
.ocrx-noboxes .ocrx-svg { visibility: hidden; }
.ocrx-btn[aria-pressed="false"] { text-decoration: line-through; }
.ocrx-stage { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
.ocrx-img, .ocrx-svg { position: absolute; left: 0; top: 0; display: block; max-width: none; }
.ocrx-halo { fill: none; stroke: rgba(255, 255, 255, 0.9); stroke-width: 6px; vector-effect: non-scaling-stroke; }
.ocrx-box { fill: rgba(0, 132, 255, 0.10); stroke: rgb(0, 132, 255); stroke-width: 2.5px; vector-effect: non-scaling-stroke; }
.ocrx-line { cursor: pointer; }
.ocrx-line:hover .ocrx-box { fill: rgba(0, 132, 255, 0.28); }
.ocrx-line.sel .ocrx-box { fill: rgba(255, 96, 0, 0.30); stroke: rgb(255, 96, 0); stroke-width: 3px; }
.ocrx-band { fill: rgba(255, 255, 255, 0.88); stroke: none; }
.ocrx-text { fill: #000; font-family: system-ui, sans-serif; }
.ocrx-tag rect { fill: rgb(0, 92, 186); stroke: #fff; stroke-width: 1px; vector-effect: non-scaling-stroke; }
.ocrx-tag text { fill: #fff; font-family: system-ui, sans-serif; font-weight: 600; }
.ocrx-tag.sel rect { fill: rgb(196, 64, 0); }
.ocrx-tip { position: absolute; z-index: 5; max-width: min(420px, 90%); padding: 6px 10px; border-radius: 6px;
  background: #111827; color: #fff; font-size: 14px; line-height: 1.35; pointer-events: none;
  box-shadow: 0 2px 8px rgba(0, 0, 0, 0.35); overflow-wrap: anywhere; }
.ocrx-tip strong, .ocrx-tip .ocrx-tip-text { color: #fff !important; font-weight: 600; }
.ocrx-tip .ocrx-tip-conf { display: block; color: #d1d5db !important; font-size: 12px; }
"""

TABLE_CSS = """
.ocrt-scroll { max-height: 420px; overflow: auto; border: 1px solid var(--border-color-primary); border-radius: 8px; }
.ocrt-table { width: 100%; border-collapse: collapse; font-size: 15px; color: var(--body-text-color); }
.ocrt-caption { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.ocrt-table th { position: sticky; top: 0; z-index: 1; background: var(--background-fill-secondary); text-align: left;
  padding: 8px; white-space: nowrap; word-break: keep-all; font-weight: 600; }
.ocrt-table td { padding: 10px 8px; border-top: 1px solid var(--border-color-primary); vertical-align: top; }
.ocrt-n { width: 3em; white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
.ocrt-text { overflow-wrap: anywhere; }
.ocrt-conf { width: 6.5em; white-space: nowrap; font-variant-numeric: tabular-nums; }
.ocrt-row { cursor: pointer; min-height: 44px; }
.ocrt-row:hover { background: var(--background-fill-secondary); }
.ocrt-row.sel { background: rgba(255, 96, 0, 0.18); box-shadow: inset 4px 0 0 rgb(196, 64, 0); }
"""


class ResultExplorer(gr.HTML):
    """The zoomable result image with hoverable, clickable boxes (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            value=None,
            html_template='<div class="ocrx"></div>',
            css_template=EXPLORER_CSS,
            js_on_load=EXPLORER_JS,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "the result view: display size, display-size image and the shown lines",
            "properties": {
                "name": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "show_text": {"type": "boolean"},
                "alt": {"type": "string"},
                "image": {"type": "object", "description": "the display-size image (FileData)"},
                "lines": {"type": "array", "items": _LINE_SCHEMA},
            },
        }


class LinesTable(gr.HTML):
    """The table of shown lines, linked to the `ResultExplorer` (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            value=None,
            html_template='<div class="ocrt"></div>',
            css_template=TABLE_CSS,
            js_on_load=TABLE_JS,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "the shown lines: number, text, confidence, display polygon",
            "properties": {
                "name": {"type": "string", "description": "the file the lines were read from"},
                "lines": {
                    "type": "array",
                    "items": {**_LINE_SCHEMA, "properties": {k: v for k, v in _LINE_SCHEMA["properties"].items() if k != "points"}},
                }
            },
        }


def table_value(explorer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The table's value: only the lines (number, text, confidence), no image."""
    if explorer is None:
        return None
    return {
        "name": explorer["name"],
        "lines": [{key: line[key] for key in ("n", "text", "confidence")} for line in explorer["lines"]],
    }
