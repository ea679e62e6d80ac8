// Compare: two or more runs side by side. First what differs in their configs (stage, model,
// technique, workload, budget, device) and a warning where that is more than the technique; then each
// metric against a baseline run with the absolute and percent difference, and "better" / "worse" /
// "same" in words and a mark, not only in colour (none across groups of comparable runs).
import type { CompareData, ConfigDifference, DeltaView } from '../src/core/webviewProtocol/compare';
import type { RunView } from '../src/core/webviewProtocol/results';
import { isCompareData } from '../src/core/webviewProtocol/compare';
import { button, select } from './controls';
import { clear, el, showProblem } from './dom';
import type { Environment } from './host';

export interface CompareState {
  baselineId: string;
  runIds: string[];
}

type Env = Environment<'compare', CompareState>;

export function startCompare(root: HTMLElement, env: Env): void {
  const show = (data: CompareData): void => {
    env.state.update({ runIds: data.runs.map((r) => r.id) });
    renderCompare(root, data, env);
  };
  if (env.kind === 'webview') {
    env.channel.start((m) => {
      if (m.method === 'compare/data') show(m.params);
    });
    return;
  }
  if (isCompareData(env.data)) show(env.data);
  else showProblem(root, 'This page holds no readable comparison data.');
}

const VERDICT_MARK: Record<DeltaView['verdict'], string> = {
  better: '▲ better',
  worse: '▼ worse',
  same: '= same',
  neutral: '',
};

function deltaNode(d: DeltaView | null | undefined): Node {
  if (!d) return el('span', { className: 'muted', text: 'not comparable' });
  return el('span', { className: `delta delta-${d.verdict}` }, [
    el('span', { text: `${d.absText} (${d.pctText})` }),
    d.verdict === 'neutral' ? null : el('span', { className: 'verdict', text: ` ${VERDICT_MARK[d.verdict]}` }),
  ]);
}

function renderCompare(root: HTMLElement, data: CompareData, env: Env): void {
  clear(root);
  root.setAttribute('aria-busy', 'false');
  const stored = env.state.get().baselineId;
  const baselineId = stored !== undefined && data.runs.some((r) => r.id === stored) ? stored : data.baselineId;
  const baseline = data.runs.find((r) => r.id === baselineId) as RunView;
  const others = data.runs.filter((r) => r.id !== baselineId);

  root.appendChild(el('h1', { text: data.title }));
  const controls = el('div', { className: 'controls' }, [
    select(
      'Baseline run',
      data.runs.map((r) => ({ value: r.id, text: r.label })),
      baselineId,
      (v) => {
        env.state.update({ baselineId: v });
        renderCompare(root, data, env);
      },
    ),
  ]);
  if (env.kind === 'webview') {
    controls.appendChild(
      button(
        'Open in dashboard',
        () => env.channel.command({ method: 'compare/openDashboard', params: { runIds: data.runs.map((r) => r.id) } }),
        { secondary: true, name: 'open-dashboard' },
      ),
    );
  }
  root.appendChild(controls);
  for (const w of data.warnings)
    root.appendChild(el('p', { className: 'compare-warning', text: w, attrs: { role: 'alert' } }));
  root.appendChild(differencesTable(data.differences, data.runs));
  root.appendChild(
    el('p', {
      className: 'muted',
      text: `Differences are each run minus the baseline, ${baseline.label}. Better and worse follow each metric's direction.`,
    }),
  );

  const table = el('table', { className: 'data-table compare' });
  table.appendChild(el('caption', { text: `Runs against the baseline ${baseline.label}` }));
  const head = el('tr', {}, [
    el('th', { text: 'Metric', attrs: { scope: 'col' } }),
    el('th', { attrs: { scope: 'col' } }, [
      el('span', { text: baseline.label }),
      el('span', { className: 'muted', text: ' (baseline)' }),
    ]),
  ]);
  for (const r of others) head.appendChild(el('th', { text: r.label, attrs: { scope: 'col' } }));
  table.appendChild(el('thead', {}, [head]));
  const body = el('tbody');
  const info: [string, (r: RunView) => string][] = [
    ['Status', (r) => r.status],
    ['Device', (r) => r.device ?? '—'],
    ['Target', (r) => r.target],
    ['Attention', (r) => r.attention],
    ['Precision', (r) => r.precision],
    ['Created', (r) => r.createdText],
    ['Error', (r) => (r.error ? `${r.error.kind}: ${r.error.message.split('\n')[0]}` : '')],
  ];
  for (const [name, get] of info) {
    const tr = el('tr', {}, [el('th', { text: name, attrs: { scope: 'row' } }), el('td', { text: get(baseline) })]);
    for (const r of others) tr.appendChild(el('td', { text: get(r) }));
    body.appendChild(tr);
  }
  for (const m of data.metrics.filter((c) => c.measured)) {
    const tr = el('tr', { attrs: { 'data-metric': m.key } }, [
      el('th', { text: m.label, attrs: { scope: 'row', title: m.unit } }),
      el('td', { className: 'num', text: baseline.metrics[m.key].text }),
    ]);
    for (const r of others) {
      tr.appendChild(
        el('td', { className: 'num' }, [
          el('div', { text: r.metrics[m.key].text }),
          deltaNode(data.deltas[baselineId]?.[r.id]?.[m.key]),
        ]),
      );
    }
    body.appendChild(tr);
  }
  table.appendChild(body);
  root.appendChild(
    el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Comparison' } }, [
      table,
    ]),
  );
  document.documentElement.dataset.rendered = 'compare';
}

/** The "config differences" block: every config field, the differing ones marked in words and weight. */
function differencesTable(rows: readonly ConfigDifference[], runs: readonly RunView[]): HTMLElement {
  const table = el('table', { className: 'data-table differences' });
  const n = rows.filter((r) => r.differs).length;
  table.appendChild(
    el('caption', {
      text: `Config differences: ${n === 0 ? 'none' : `${n} field${n === 1 ? '' : 's'} differ (marked ≠)`}`,
    }),
  );
  const head = el('tr', {}, [el('th', { text: 'Field', attrs: { scope: 'col' } })]);
  for (const r of runs) head.appendChild(el('th', { text: r.label, attrs: { scope: 'col' } }));
  table.appendChild(el('thead', {}, [head]));
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr', { className: row.differs ? 'differs' : 'same', attrs: { 'data-field': row.field } }, [
      el('th', { attrs: { scope: 'row' } }, [
        row.field,
        row.differs ? el('span', { className: 'differs-mark', text: ' ≠', attrs: { 'aria-label': 'differs' } }) : null,
      ]),
    ]);
    for (const v of row.values) tr.appendChild(el('td', { text: v }));
    body.appendChild(tr);
  }
  table.appendChild(body);
  return el(
    'div',
    { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Config differences' } },
    [table],
  );
}
