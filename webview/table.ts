// A sortable table: each header is a <button> inside a <th> (Enter, Space and click sort it; the
// <th> carries aria-sort), cells are text. Missing values sort last in both directions.
import { clear, el } from './dom';

export type SortDir = 'ascending' | 'descending';

export interface TableColumn<R> {
  key: string;
  header: string;
  /** Header tooltip (the unit, the measurement). */
  title?: string;
  numeric: boolean;
  /** Value sorted by; null sorts last. */
  sortValue(row: R): number | string | null;
  /** The cell's content: text, or a node built with dom.ts. */
  cell(row: R): string | Node;
}

export interface TableOptions<R> {
  caption: string;
  columns: readonly TableColumn<R>[];
  rows: readonly R[];
  rowKey(row: R): string;
  sort: { key: string; dir: SortDir } | null;
  onSort(sort: { key: string; dir: SortDir }): void;
  /** Extra class per row (e.g. the recommended run). */
  rowClass?(row: R): string;
  /** Header whose button gets focus after rendering (the one just used to sort). */
  focusKey?: string;
}

function compare(a: number | string | null, b: number | string | null, dir: SortDir): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const s =
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : String(a).localeCompare(String(b), undefined, { numeric: true });
  return dir === 'ascending' ? s : -s;
}

export function sortedRows<R>(rows: readonly R[], column: TableColumn<R> | undefined, dir: SortDir): R[] {
  if (!column) return [...rows];
  // Stable: equal keys keep their order.
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => compare(column.sortValue(x.r), column.sortValue(y.r), dir) || x.i - y.i)
    .map((x) => x.r);
}

/** Renders the table into `host` (replacing what was there). */
export function renderTable<R>(host: HTMLElement, options: TableOptions<R>): void {
  clear(host);
  const { columns, sort } = options;
  const table = el('table', { className: 'data-table' });
  table.appendChild(el('caption', { text: options.caption }));
  const headRow = el('tr');
  for (const c of columns) {
    const active = sort !== null && sort.key === c.key;
    const th = el('th', {
      attrs: { scope: 'col', 'aria-sort': active ? sort.dir : 'none' },
      className: c.numeric ? 'num' : '',
    });
    const nextDir: SortDir = active && sort.dir === 'ascending' ? 'descending' : 'ascending';
    const button = el('button', { className: 'sort', attrs: { type: 'button', 'data-key': c.key } }, [
      c.header,
      el('span', {
        className: 'sort-mark',
        text: active ? (sort.dir === 'ascending' ? ' ▲' : ' ▼') : '',
        attrs: { 'aria-hidden': 'true' },
      }),
    ]);
    if (c.title) button.title = c.title;
    // A native button: Enter and Space click it, so keyboard and mouse take one path.
    button.addEventListener('click', () => options.onSort({ key: c.key, dir: nextDir }));
    th.appendChild(button);
    headRow.appendChild(th);
  }
  table.appendChild(el('thead', {}, [headRow]));
  const body = el('tbody');
  const column = sort ? columns.find((c) => c.key === sort.key) : undefined;
  for (const row of sortedRows(options.rows, column, sort?.dir ?? 'ascending')) {
    const tr = el('tr', { attrs: { 'data-row': options.rowKey(row) } });
    const extra = options.rowClass?.(row);
    if (extra) tr.className = extra;
    columns.forEach((c, i) => {
      const content = c.cell(row);
      const td = el(i === 0 ? 'th' : 'td', { className: c.numeric ? 'num' : '' });
      if (i === 0) td.setAttribute('scope', 'row');
      if (typeof content === 'string') td.textContent = content;
      else td.appendChild(content);
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  table.appendChild(body);
  host.appendChild(
    el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': options.caption } }, [
      table,
    ]),
  );
  if (options.focusKey !== undefined) {
    table.querySelectorAll<HTMLButtonElement>('button.sort').forEach((b) => {
      if (b.dataset.key === options.focusKey) b.focus();
    });
  }
}
