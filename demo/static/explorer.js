const NS = 'http://www.w3.org/2000/svg';
const S = {scale: 1, min: 1, max: 8, tx: 0, ty: 0, W: 0, H: 0, sel: null, vw: 0, vh: 0};
const pointers = new Map();
let drag = null, pinch = null, view = null, stage = null, svg = null, tip = null, zoomLabel = null;
let side = null, hovered = null;  // the text panel beside the image; the line under the mouse
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
  // the image had the keyboard focus (e.g. PageDown turned the page): the new image gets it back
  const refocus = !!view && view.contains(document.activeElement);
  const keep = shown && data && data.image && shown.name === data.name && shown.W === data.width
    && shown.H === data.height ? {scale: S.scale, tx: S.tx, ty: S.ty, zoomed: S.scale > S.min * 1.001, sel: S.sel} : null;
  root.replaceChildren();
  root.classList.remove('ocrx-noboxes');
  S.sel = null; side = null; hovered = null;
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
  button('−', 'Zoom out', () => zoomAt(1 / 1.5), 'ocrx-out');
  button('+', 'Zoom in', () => zoomAt(1.5), 'ocrx-in');
  button('Fit', 'Reset: fit the whole image', () => fit(), 'ocrx-fit');
  const boxes = button('Boxes', 'Show or hide the boxes (see the original image)', () => {
    const hidden = root.classList.toggle('ocrx-noboxes');
    boxes.setAttribute('aria-pressed', String(!hidden));
    if (hidden) hideTip();
  }, 'ocrx-boxes');
  boxes.setAttribute('aria-pressed', 'true');
  // Line numbers show on hover, on the selected line and when zoomed in (at the fitted size they covered
  // text on dense pages); this button shows them all the time.
  const numbers = button('#', 'Show all line numbers', () => {
    const all = root.classList.toggle('ocrx-alltags');
    numbers.setAttribute('aria-pressed', String(all));
  }, 'ocrx-numbers');
  numbers.setAttribute('aria-pressed', 'false');
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
  const main = el('div', 'ocrx-main', root);
  view = el('div', 'ocrx-view', main);
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
    // number tag: left of the box, else inside, above or below; never closer than 3 px to another tag (the rule
    // demo/render.py's TAG_SPOTS follows for the drawn image: same spots, same order, same gap)
    const tw = tagSize * 0.62 * String(line.n).length + 6, th = tagSize + 4;
    const spots = [[x0 - tw - 1, y0], [x0, y0], [x0, y0 - th - 1], [x0, y1 + 1]].map(([x, y]) => [
      Math.min(Math.max(0, x), Math.max(0, S.W - tw)), Math.min(Math.max(0, y), Math.max(0, S.H - th))]);
    const free = spots.find(([x, y]) => !placed.some(r => x < r[2] + 3 && r[0] < x + tw + 3 && y < r[3] + 3 && r[1] < y + th + 3));
    const [tx, ty] = free || spots[0];
    placed.push([tx, ty, tx + tw, ty + th]);
    const tag = sv('g', {class: 'ocrx-tag', 'data-n': line.n}, tags);
    // zoomed in, a tag keeps its size on screen, anchored at its corner next to the box
    tag.dataset.ax = String(tx + tw <= x0 + 1 ? tx + tw : tx);
    tag.dataset.ay = String(ty);
    sv('rect', {x: tx, y: ty, width: tw, height: th, rx: 2}, tag);
    const label = sv('text', {x: tx + 3, y: ty + th - 4, 'font-size': tagSize}, tag);
    label.textContent = String(line.n);
  }
  svg.appendChild(tags);
  side = buildSide(main, data);
  tip = el('div', 'ocrx-tip', root);
  tip.hidden = true;
  tip.setAttribute('role', 'status');
  tip.setAttribute('aria-live', 'polite');
  view.addEventListener('wheel', onWheel, {passive: false});
  view.addEventListener('pointerdown', onDown);
  view.addEventListener('pointermove', onMove);
  view.addEventListener('pointerup', onUp);
  view.addEventListener('pointercancel', onCancel);
  view.addEventListener('pointerleave', e => { if (e.pointerType === 'mouse') { hideTip(); hover(null); } });
  view.addEventListener('keydown', onKey);
  fit();
  if (keep && keep.zoomed) { S.scale = Math.min(S.max, Math.max(S.min, keep.scale)); S.tx = keep.tx; S.ty = keep.ty; apply(); }
  if (keep && keep.sel !== null && lineData(keep.sel)) select(keep.sel, 'restore');
  if (refocus) view.focus({preventScroll: true});
}

function measure() {
  S.vw = Math.max(1, view.clientWidth);
  const full = document.fullscreenElement === host();
  const maxHeight = full ? Math.max(160, window.innerHeight - view.offsetTop - 8) : Math.max(240, Math.round(window.innerHeight * 0.72));
  S.vh = full ? maxHeight : Math.max(160, Math.min(maxHeight, Math.round(S.H * S.vw / S.W)));
  view.style.height = S.vh + 'px';
  if (side) side.panel.style.setProperty('--ocrx-view-height', S.vh + 'px');
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
  const tagsOn = S.scale >= S.min * 1.8;
  view.classList.toggle('ocrx-zoomtags', tagsOn);
  const k = Math.min(1, S.min * 1.8 / S.scale);
  svg.querySelectorAll('.ocrx-tag').forEach((tag) => {
    const ax = tag.dataset.ax, ay = tag.dataset.ay;
    if (k < 1) tag.setAttribute('transform', 'translate(' + ax + ' ' + ay + ') scale(' + k + ') translate(' + -ax + ' ' + -ay + ')');
    else tag.removeAttribute('transform');
  });
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
    hover(n);
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

function hover(n) {
  if (hovered === n || !svg) return;
  svg.querySelectorAll('.ocrx-tag.hover').forEach(node => node.classList.remove('hover'));
  hovered = n;
  const tag = n === null ? null : svg.querySelector('.ocrx-tag[data-n="' + n + '"]');
  if (tag) tag.classList.add('hover');
}

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
  if (side) side.mark(n);
  if (from === 'image' || from === 'panel') document.dispatchEvent(new CustomEvent(SELECT_EVENT, {detail: {n, from}}));
}

// The text beside the image (below it on narrow screens): plain lines or the layout text, in a monospace
// font, with a copy button; the selected line is marked here and on the image. Text only via textContent.
function buildSide(main, data) {
  const panel = el('section', 'ocrx-side', main);
  panel.setAttribute('aria-label', 'Text of the image');
  const bar = el('div', 'ocrx-side-bar', panel);
  const modes = el('div', 'ocrx-modes', bar);
  modes.setAttribute('role', 'group');
  modes.setAttribute('aria-label', 'Text view');
  const body = el('div', 'ocrx-textpanel', panel);
  body.tabIndex = 0;
  const lines = data.lines || [];
  let mode = 'plain', marked = null;
  const modeButton = (name, label) => {
    const b = el('button', 'ocrx-mode', modes);
    b.type = 'button'; b.textContent = label; b.dataset.mode = name;
    b.addEventListener('click', () => { mode = name; render(); });
    return b;
  };
  const plainButton = modeButton('plain', 'Plain'), layoutButton = modeButton('layout', 'Layout');
  const copy = el('button', 'ocrx-copy', bar);
  copy.type = 'button'; copy.textContent = 'Copy';
  copy.title = 'Copy this text';
  const text = () => mode === 'plain' ? lines.map(line => line.text).join('\n') : (data.layout || '');
  copy.addEventListener('click', async () => {
    let done;
    try { await navigator.clipboard.writeText(text()); done = true; } catch {
      const range = document.createRange();  // no clipboard API (plain http): copy the selection instead
      range.selectNodeContents(body);
      const selection = window.getSelection();
      selection.removeAllRanges(); selection.addRange(range);
      done = document.execCommand && document.execCommand('copy');
      selection.removeAllRanges();
    }
    copy.textContent = done ? 'Copied' : 'Copy failed';
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  });
  const render = () => {
    plainButton.setAttribute('aria-pressed', String(mode === 'plain'));
    layoutButton.setAttribute('aria-pressed', String(mode === 'layout'));
    body.replaceChildren();
    body.dataset.mode = mode;
    if (!lines.length) {
      el('p', 'ocrx-side-empty', body).textContent = 'No lines to show at this confidence.';
    } else if (mode === 'plain') {
      for (const line of lines) {
        const row = el('div', 'ocrx-tl', body);
        row.dataset.n = line.n;
        el('span', 'ocrx-tl-n', row).textContent = String(line.n);
        el('span', 'ocrx-tl-text', row).textContent = line.text;
      }
    } else {
      el('pre', 'ocrx-layout', body).textContent = data.layout || '';
    }
    if (marked !== null) mark(marked);
  };
  const mark = (n) => {
    marked = n;
    body.querySelectorAll('.sel').forEach(node => node.classList.remove('sel'));
    let target = null;
    if (mode === 'plain') {
      target = body.querySelector('.ocrx-tl[data-n="' + n + '"]');
    } else {
      // the line's own place, from the server (demo/handlers.py explorer_data): searching the layout for its
      // text would find the first of many "1.00" on a receipt
      const pre = body.querySelector('.ocrx-layout'), line = lineData(n), all = data.layout || '';
      const span = line && Array.isArray(line.span) ? line.span : null;
      if (pre) pre.textContent = all;
      if (pre && span && span[0] >= 0 && span[0] < span[1] && span[1] <= all.length) {
        pre.replaceChildren(document.createTextNode(all.slice(0, span[0])));
        target = el('mark', 'sel', pre);
        target.textContent = all.slice(span[0], span[1]);
        pre.appendChild(document.createTextNode(all.slice(span[1])));
      }
    }
    if (target) {
      target.classList.add('sel');
      // scroll inside the panel only, never the page
      const top = target.offsetTop - body.offsetTop;
      if (top < body.scrollTop || top + target.offsetHeight > body.scrollTop + body.clientHeight) {
        body.scrollTop = Math.max(0, top - body.clientHeight / 3);
      }
    }
  };
  body.addEventListener('click', (e) => {
    const row = e.target.closest && e.target.closest('.ocrx-tl');
    if (row) select(Number(row.dataset.n), 'panel');
  });
  render();
  return {panel, mark};
}

// PageUp / PageDown step through a PDF's pages or a batch's files: they press the page strip's buttons (when it
// shows) while the focus is on the result, the strip or nowhere in particular; the lines table keeps its own.
document.addEventListener('keydown', (e) => {
  if ((e.key !== 'PageUp' && e.key !== 'PageDown') || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  const at = document.activeElement;
  const free = !at || at === document.body || !!at.closest('#explorer, #page-nav');
  if (!free || (at && at.closest('.ocrx-textpanel'))) return;
  const button = document.getElementById(e.key === 'PageUp' ? 'page-prev' : 'page-next');
  if (!button || button.offsetParent === null) return;
  e.preventDefault();
  if (!button.disabled) button.click();
});
document.addEventListener(SELECT_EVENT, e => { if (e.detail.from !== 'image' && e.detail.from !== 'panel') select(e.detail.n, e.detail.from); });
document.addEventListener('fullscreenchange', () => { if (view) requestAnimationFrame(fit); });
window.addEventListener('resize', () => { if (view && S.scale <= S.min * 1.001) fit(); else if (view) { measure(); apply(); } });
watch('value', build);
build();
