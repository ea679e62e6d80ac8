// The results dashboard: the recommendation, bars per metric across the sweep's configs, the
// latency–memory(–energy) Pareto scatter, a run's samples, % of roofline, a sortable table with
// exports, and the errors of failed runs. One render function for the webview and the static report.
import type { DashboardData, ExportFormat } from '../src/core/webviewProtocol/dashboard';
import type { MetricKey, RunView } from '../src/core/webviewProtocol/results';
import { isDashboardData } from '../src/core/webviewProtocol/dashboard';
import { chartPng, onThemeChange } from './charts';
import { button, dataUrlBlob, download, select } from './controls';
import { drawMetricBars, drawPareto, drawRoofline, drawSamples, recommendedIds } from './dashboardCharts';
import { clear, el, showProblem, uid } from './dom';
import type { Environment } from './host';
import { renderTable } from './table';
import type { SortDir, TableColumn } from './table';

export interface DashboardState {
  metric: MetricKey;
  sort: { key: string; dir: SortDir } | null;
  sampleRunId: string;
  compareIds: string[];
  /** The runs shown, so the host's serializer can restore the panel after a reload. */
  runIds: string[];
}

type Env = Environment<'dashboard', DashboardState>;

/** Preferred order of the bar chart's metric picker's first choice. */
const FIRST_METRICS: readonly MetricKey[] = ['latencyS', 'peakMemoryBytes', 'tokensPerS', 'joulesPerToken'];

/** Metrics shown as table columns when any run measured them. */
const TABLE_METRICS: readonly MetricKey[] = [
  'latencyS',
  'ttftS',
  'tpotS',
  'tokensPerS',
  'peakMemoryBytes',
  'amuBytes',
  'kvCacheBytes',
  'mfu',
  'pcu',
  'powerW',
  'joulesPerToken',
  'rooflineFraction',
  'quality',
  'mcr',
];

const EXPORT_LABELS: Record<ExportFormat, { text: string; file: string; type: string }> = {
  csv: { text: 'Export CSV', file: 'efficientllm-runs.csv', type: 'text/csv' },
  md: { text: 'Export Markdown', file: 'efficientllm-runs.md', type: 'text/markdown' },
  json: { text: 'Export JSON', file: 'efficientllm-runs.json', type: 'application/json' },
};

export function startDashboard(root: HTMLElement, env: Env): void {
  let current: DashboardData | null = null;
  const show = (data: DashboardData): void => {
    current = data;
    env.state.update({ runIds: data.runs.map((r) => r.id) });
    renderDashboard(root, data, env);
  };
  onThemeChange(() => {
    if (current) renderDashboard(root, current, env);
  });
  if (env.kind === 'webview') {
    env.channel.start((m) => {
      if (m.method === 'dashboard/data') show(m.params);
    });
    return;
  }
  if (isDashboardData(env.data)) show(env.data);
  else showProblem(root, 'This report holds no readable results data.');
}

function section(title: string, ...children: (Node | null)[]): HTMLElement {
  const id = uid('section');
  const s = el('section', { className: 'card', attrs: { 'aria-labelledby': id } });
  s.appendChild(el('h2', { id, text: title }));
  for (const c of children) if (c) s.appendChild(c);
  return s;
}

function chartBox(canvasId: string, label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { id: canvasId, attrs: { role: 'img', 'aria-label': label } });
  return { box: el('div', { className: 'chart' }, [canvas]), canvas };
}

function renderDashboard(root: HTMLElement, data: DashboardData, env: Env): void {
  clear(root);
  root.setAttribute('aria-busy', 'false');
  const state = env.state.get();
  const status = el('p', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const say = (text: string): void => {
    status.textContent = text;
  };

  root.appendChild(el('h1', { text: data.title }));
  root.appendChild(
    el('p', {
      className: 'muted',
      text: `${data.runs.length} run${data.runs.length === 1 ? '' : 's'} · generated ${data.generatedAt.slice(0, 19).replace('T', ' ')}Z`,
    }),
  );
  if (data.runs.length === 0) {
    root.appendChild(el('p', { text: 'No runs to show yet. Profile a configuration to see results here.' }));
    return;
  }

  // ---- recommendation ----
  const recBox = el('div', { className: 'recommendations' });
  if (data.recommendations.length === 0) {
    recBox.appendChild(
      el('p', { className: 'muted', text: 'No recommendation: no completed run measured latency and memory.' }),
    );
  }
  for (const r of data.recommendations) {
    recBox.appendChild(
      el('div', { className: 'recommendation', attrs: { 'data-run': r.runId } }, [
        el('p', {}, [el('strong', { text: 'Recommended: ' }), el('span', { className: 'rec-label', text: r.label })]),
        el('p', { className: 'rec-reason', text: r.reason }),
        el('p', { className: 'muted', text: `Group: ${r.group} · objectives: ${r.objectives.join(', ')}` }),
      ]),
    );
  }
  root.appendChild(section('Recommendation', recBox));

  // ---- exports ----
  const toolbar = el('div', { className: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Export' } });
  for (const f of ['csv', 'md', 'json'] as const) {
    toolbar.appendChild(
      button(EXPORT_LABELS[f].text, () => void exportRuns(f), { secondary: true, name: `export-${f}` }),
    );
  }
  const exportRuns = async (format: ExportFormat): Promise<void> => {
    if (env.kind === 'static') {
      if (!data.exports) return say('This report has no export data.');
      download(EXPORT_LABELS[format].file, data.exports[format], EXPORT_LABELS[format].type);
      return say(`Downloaded ${EXPORT_LABELS[format].file}.`);
    }
    say(`Exporting ${format.toUpperCase()}…`);
    try {
      const r = await env.channel.request('dashboard/export', { format, runIds: data.runs.map((x) => x.id) });
      say(r.savedTo === null ? 'Export cancelled.' : `Saved ${r.savedTo}`);
    } catch (e) {
      say(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  root.appendChild(el('div', { className: 'bar-row' }, [toolbar, status]));

  const savePng = async (name: string): Promise<void> => {
    const dataUrl = chartPng(name);
    if (dataUrl === null) return;
    if (env.kind === 'static') {
      download(`efficientllm-${name}.png`, dataUrlBlob(dataUrl), 'image/png');
      return say(`Downloaded efficientllm-${name}.png.`);
    }
    try {
      const r = await env.channel.request('dashboard/savePng', { chart: name, dataUrl });
      say(r.savedTo === null ? 'Save cancelled.' : `Saved ${r.savedTo}`);
    } catch (e) {
      say(`Saving the chart failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const pngButton = (name: string, what: string): HTMLElement =>
    button('Save PNG', () => void savePng(name), {
      secondary: true,
      label: `Save the ${what} chart as PNG`,
      name: `png-${name}`,
    });

  // ---- bars per metric ----
  const measured = data.metrics.filter((m) => m.measured);
  const chosen: MetricKey =
    state.metric !== undefined && measured.some((m) => m.key === state.metric)
      ? state.metric
      : (FIRST_METRICS.find((k) => measured.some((m) => m.key === k)) ?? measured[0]?.key ?? 'latencyS');
  const bars = chartBox('chart-bars', 'Bar chart of the chosen metric per run');
  const barsNote = el('p', { className: 'muted' });
  const drawBars = (key: MetricKey): void => {
    drawMetricBars(bars.canvas, data, key);
    const m = data.metrics.find((c) => c.key === key);
    const missing = data.runs.filter((r) => r.metrics[key].v === null).map((r) => r.label);
    const dir = m?.direction === 'min' ? 'Lower is better.' : m?.direction === 'max' ? 'Higher is better.' : '';
    barsNote.textContent = `${dir}${missing.length > 0 ? ` Not measured: ${missing.join(', ')}.` : ''}`.trim();
  };
  const picker =
    measured.length > 0
      ? select(
          'Metric',
          measured.map((m) => ({ value: m.key, text: m.label })),
          chosen,
          (v) => {
            const key = measured.find((m) => m.key === v)?.key;
            if (!key) return;
            env.state.update({ metric: key });
            drawBars(key);
          },
        )
      : null;
  root.appendChild(
    section(
      'Metric across configs',
      el('div', { className: 'controls' }, [picker, pngButton('bars', 'metric')]),
      bars.box,
      barsNote,
    ),
  );

  // ---- Pareto ----
  const pareto = chartBox(
    'chart-pareto',
    'Scatter of latency against memory per run; point size is energy per token; the recommended run is a star',
  );
  const paretoNote = el('p', { className: 'muted' });
  root.appendChild(
    section(
      'Latency, memory and energy',
      el('div', { className: 'controls' }, [pngButton('pareto', 'Pareto')]),
      pareto.box,
      el('p', {
        className: 'muted',
        text: 'Lower left is better. Point size: energy per token (larger uses more). Star: the recommended run.',
      }),
      paretoNote,
    ),
  );

  // ---- samples ----
  const withSamples = data.runs.filter((r) => r.samples.length > 0);
  const samples = chartBox('chart-samples', 'Line chart of memory, utilisation and power over time for the chosen run');
  const samplesNote = el('p', { className: 'muted' });
  const sampleRun =
    withSamples.find((r) => r.id === state.sampleRunId) ??
    withSamples.find((r) => recommendedIds(data).has(r.id)) ??
    withSamples[0];
  const drawRunSamples = (run: RunView): void => {
    drawSamples(samples.canvas, data, run);
    samplesNote.textContent = run.measurement
      ? `Memory: ${run.measurement.memory}. Utilisation: ${run.measurement.utilization}. Power: ${run.measurement.power}.`
      : '';
  };
  const runPicker =
    withSamples.length > 0
      ? select(
          'Run',
          withSamples.map((r) => ({ value: r.id, text: r.label })),
          sampleRun.id,
          (v) => {
            const run = withSamples.find((r) => r.id === v);
            if (!run) return;
            env.state.update({ sampleRunId: run.id });
            if (env.kind === 'webview')
              env.channel.command({ method: 'dashboard/selectRun', params: { runId: run.id } });
            drawRunSamples(run);
          },
        )
      : null;
  root.appendChild(
    withSamples.length > 0
      ? section(
          'Samples of a run',
          el('div', { className: 'controls' }, [runPicker, pngButton('samples', 'samples')]),
          samples.box,
          samplesNote,
        )
      : section('Samples of a run', el('p', { className: 'muted', text: 'No run has monitor samples.' })),
  );

  // ---- roofline ----
  const roofline = chartBox('chart-roofline', 'Horizontal bars: how close each run came to its analytic floor');
  const rooflineNote = el('p', { className: 'muted' });
  const anyRoofline = data.runs.some((r) => r.metrics.rooflineFraction.v !== null);
  root.appendChild(
    anyRoofline
      ? section(
          'Of roofline',
          el('div', { className: 'controls' }, [pngButton('roofline', 'roofline')]),
          roofline.box,
          rooflineNote,
        )
      : section('Of roofline', el('p', { className: 'muted', text: 'No run has a roofline fraction.' })),
  );

  // ---- table ----
  const tableHost = el('div');
  const compareIds = new Set((state.compareIds ?? []).filter((id) => data.runs.some((r) => r.id === id)));
  const compareButton =
    env.kind === 'webview'
      ? button(
          'Compare selected',
          () => {
            if (compareIds.size < 2) return say('Select two or more runs to compare.');
            env.channel.command({ method: 'dashboard/compare', params: { runIds: [...compareIds] } });
          },
          { name: 'compare' },
        )
      : null;
  const columns = tableColumns(data, env, compareIds, (ids) => env.state.update({ compareIds: ids }));
  const rec = recommendedIds(data);
  const drawTable = (sort: DashboardState['sort'], focusKey?: string): void =>
    renderTable(tableHost, {
      caption: 'Runs (select a column header to sort)',
      columns,
      rows: data.runs,
      rowKey: (r) => r.id,
      sort,
      rowClass: (r) => (rec.has(r.id) ? 'recommended' : r.status === 'completed' ? '' : 'not-completed'),
      onSort: (s) => {
        env.state.update({ sort: s });
        drawTable(s, s.key);
      },
      focusKey,
    });
  drawTable(state.sort ?? null);
  root.appendChild(
    section('Runs', compareButton ? el('div', { className: 'controls' }, [compareButton]) : null, tableHost),
  );

  // ---- errors ----
  const failed = data.runs.filter((r) => r.error !== null);
  if (failed.length > 0) {
    const list = el('div');
    for (const r of failed) {
      const e = r.error as NonNullable<RunView['error']>;
      list.appendChild(
        el('details', { className: 'run-error' }, [
          el('summary', {}, [
            el('strong', { text: r.label }),
            ` — ${e.kind}: `,
            el('span', { className: 'error-message', text: e.message.split('\n')[0] }),
          ]),
          el('p', { className: 'muted', text: `Run ${r.id} on ${r.target}${r.device ? ` (${r.device})` : ''}` }),
          el('pre', { className: 'error-message-full', text: e.message }),
          e.stderrTail ? el('pre', { className: 'stderr', text: e.stderrTail }) : null,
        ]),
      );
    }
    root.appendChild(section('Errors', list));
  }

  // Charts last: their canvases are in the document, so they have a size.
  if (measured.length > 0) drawBars(chosen);
  const p = drawPareto(pareto.canvas, data);
  paretoNote.textContent =
    p.missing.length > 0
      ? `Not placed (no latency or memory measured): ${p.missing.map((r) => r.label).join(', ')}.`
      : '';
  if (sampleRun) drawRunSamples(sampleRun);
  if (anyRoofline) {
    const missing = drawRoofline(roofline.canvas, data);
    rooflineNote.textContent =
      missing.length > 0 ? `No roofline fraction: ${missing.map((r) => r.label).join(', ')}.` : '';
  }
  document.documentElement.dataset.rendered = 'dashboard';
}

function tableColumns(
  data: DashboardData,
  env: Env,
  compareIds: Set<string>,
  saveCompare: (ids: string[]) => void,
): TableColumn<RunView>[] {
  const cols: TableColumn<RunView>[] = [
    {
      key: 'label',
      header: 'Run',
      numeric: false,
      sortValue: (r) => r.label,
      cell: (r) =>
        el('span', {}, [
          el('span', { className: 'run-label', text: r.label }),
          r.configLabel && r.configLabel !== r.label
            ? el('span', { className: 'config-label muted', text: ` ${r.configLabel}` })
            : null,
        ]),
    },
    { key: 'status', header: 'Status', numeric: false, sortValue: (r) => r.status, cell: (r) => r.status },
    { key: 'device', header: 'Device', numeric: false, sortValue: (r) => r.device, cell: (r) => r.device ?? '—' },
    { key: 'target', header: 'Target', numeric: false, sortValue: (r) => r.target, cell: (r) => r.target },
  ];
  for (const key of TABLE_METRICS) {
    const m = data.metrics.find((c) => c.key === key);
    if (!m || !m.measured) continue;
    const better = m.direction === 'min' ? 'lower is better' : m.direction === 'max' ? 'higher is better' : '';
    cols.push({
      key,
      header: m.label,
      title: `${m.unit}${better ? `; ${better}` : ''}`,
      numeric: true,
      sortValue: (r) => r.metrics[key].v,
      cell: (r) => r.metrics[key].text,
    });
  }
  cols.push({
    key: 'error',
    header: 'Error',
    numeric: false,
    sortValue: (r) => r.error?.kind ?? null,
    cell: (r) => (r.error ? `${r.error.kind}: ${r.error.message.split('\n')[0]}` : ''),
  });
  if (env.kind === 'webview') {
    cols.push({
      key: 'compare',
      header: 'Compare',
      numeric: false,
      sortValue: (r) => (compareIds.has(r.id) ? 0 : 1),
      cell: (r) => {
        const box = el('input', { attrs: { type: 'checkbox', 'aria-label': `Compare ${r.label}` } });
        box.checked = compareIds.has(r.id);
        box.addEventListener('change', () => {
          if (box.checked) compareIds.add(r.id);
          else compareIds.delete(r.id);
          saveCompare([...compareIds]);
        });
        return box;
      },
    });
  }
  return cols;
}
