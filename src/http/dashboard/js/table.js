// The sortable table every list view uses (click a header to sort, aria-sort says the
// order), `compare` (nulls last, numbers by value, text in natural order) and the orders
// of status words the views sort by (worst first).

import { el } from './dom.js';

/** `word`'s place in `order`; words not in it come last. */
export const rankOf = (order, word) => { const i = order.indexOf(word); return i < 0 ? order.length : i; };
export const HEALTH = ['critical', 'warning', 'healthy'];
export const EXECUTION = ['failing', 'overdue', 'never_run', 'ok'];
export const PERFORMANCE = ['degraded', 'unstable', 'stable', 'unknown'];
export const PRIORITY = ['critical', 'high', 'medium', 'low'];
export const SEVERITY = ['critical', 'error', 'warning', 'info'];

/**
 * A table with click-to-sort headers. `columns`: {key, label, sort?(row), cell(row), num?}.
 * Returns {node, update(rows)}; sorting state survives updates.
 */
export function sortableTable(columns, { caption, initial, onRowClick, rowClass, empty = 'Nothing here.' }) {
  let sort = { ...initial };
  let rows = [];
  // A row object (fresh JSON after each reload) is drawn once; sorting and filtering only
  // reorder the rows drawn before.
  const built = new WeakMap();
  const tbody = el('tbody');
  const headers = columns.map((column) => {
    const th = el('th', { scope: 'col', class: column.num ? 'num' : null });
    if (column.sort) {
      // The arrow is drawn by app.css on an aria-hidden span: aria-sort says the order.
      th.append(el('button', {
        type: 'button', class: 'sort',
        onclick: () => {
          sort = { key: column.key, dir: sort.key === column.key ? -sort.dir : 1 };
          draw();
        },
      }, column.label, el('span', { class: 'arrow', 'aria-hidden': 'true' })));
    } else {
      th.append(el('span', { class: column.hidden ? 'visually-hidden' : null, text: column.label }));
    }
    return th;
  });
  const table = el('table', {}, caption ? el('caption', { class: 'visually-hidden', text: caption }) : null,
    el('thead', {}, el('tr', {}, headers)), tbody);

  function draw() {
    columns.forEach((column, i) => {
      if (column.key === sort.key) headers[i].setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
      else headers[i].removeAttribute('aria-sort');
    });
    const column = columns.find((c) => c.key === sort.key);
    const sorted = column?.sort ? [...rows].sort((a, b) => sort.dir * compare(column.sort(a), column.sort(b))) : rows;
    const fragment = document.createDocumentFragment();
    for (const row of sorted) {
      let tr = built.get(row);
      if (!tr) {
        tr = el('tr', {}, columns.map((c) => el('td', { class: c.num ? 'num' : c.class }, c.cell(row))));
        if (onRowClick) {
          tr.addEventListener('click', (event) => {
            if (event.target.closest('button, a')) return;
            onRowClick(row, tr);
          });
        }
        built.set(row, tr);
      }
      tr.className = [onRowClick ? 'clickable' : '', rowClass?.(row) ?? ''].join(' ').trim();
      fragment.append(tr);
    }
    if (!sorted.length) fragment.append(el('tr', {}, el('td', { class: 'empty', colspan: columns.length, text: empty })));
    tbody.replaceChildren(fragment);
  }
  return { node: el('div', { class: 'table-wrap' }, table), update(next) { rows = next; draw(); } };
}

/** Sort order of two cell values: nulls last, numbers by value, text in natural order. */
export function compare(a, b) {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
