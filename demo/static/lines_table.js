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
  if (from === 'table') document.dispatchEvent(new CustomEvent(SELECT_EVENT, {detail: {n, from}}));
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
document.addEventListener(SELECT_EVENT, e => { if (e.detail.from !== 'table') select(e.detail.n, e.detail.from, false); });
watch('value', build);
build();
