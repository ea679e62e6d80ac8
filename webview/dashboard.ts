// The results dashboard, one group of comparable runs at a time (a picker where there are several:
// a training step and an inference request are not comparable): the recommendation, bars per metric,
// held-out loss curves, a Pareto scatter of two chosen metrics (cost or quality), a run's samples, %
// of roofline, the configs repeated over seeds (mean ± spread), a sortable table with exports, and the
// errors of failed runs. One render function for the webview and the static report.
import type { DashboardData, DashboardGroup, ExportFormat } from '../src/core/webviewProtocol/dashboard';
import type { MetricKey, RunView } from '../src/core/webviewProtocol/results';
import { isDashboardData } from '../src/core/webviewProtocol/dashboard';
import { chartPng, onThemeChange } from './charts';
import { button, dataUrlBlob, download, select } from './controls';
import {
  drawMetricBars,
  drawPareto,
  drawRoofline,
  drawSamples,
  PARETO_METRICS,
  recommendedIds,
} from './dashboardCharts';
import { repeatColumns, runColumns } from './dashboardTable';
import { clear, el, showProblem, uid } from './dom';
import type { Environment } from './host';
import { drawLossCurves, LOSS_AXES } from './lossChart';
import type { LossAxis } from './lossChart';
import { renderTable } from './table';
import type { SortDir } from './table';

export interface DashboardState {
  metric: MetricKey;
  sort: { key: string; dir: SortDir } | null;
  sampleRunId: string;
  compareIds: string[];
  /** The runs shown, so the host's serializer can restore the panel after a reload. */
  runIds: string[];
  /** The group of comparable runs shown (DashboardGroup.key). */
  group: string;
  paretoX: MetricKey;
  paretoY: MetricKey;
  lossAxis: LossAxis;
  /** The host's focusRunId last applied, so a later pick of another group is not undone by a refresh. */
  focusSeen: string;
}

type Env = Environment<'dashboard', DashboardState>;

/** Preferred order of the bar chart's metric picker's first choice. */
const FIRST_METRICS: readonly MetricKey[] = ['latencyS', 'peakMemoryBytes', 'tokensPerS', 'joulesPerToken'];

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
    const focus = data.focusRunId;
    if (focus !== null && env.state.get().focusSeen !== focus) {
      const g = data.groups.find((x) => x.runIds.includes(focus));
      env.state.update({ focusSeen: focus, ...(g ? { group: g.key } : {}) });
    }
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

/** The group to show: the saved one if still there, else the host's default, else the first. */
function chosenGroup(data: DashboardData, saved: string | undefined): DashboardGroup | null {
  return (
    data.groups.find((g) => g.key === saved) ??
    data.groups.find((g) => g.key === data.defaultGroup) ??
    data.groups[0] ??
    null
  );
}

/** `data` narrowed to one group: its runs, its own metric columns, its recommendation. */
function groupView(data: DashboardData, group: DashboardGroup | null): DashboardData {
  if (!group) return data;
  const ids = new Set(group.runIds);
  return {
    ...data,
    runs: data.runs.filter((r) => ids.has(r.id)),
    metrics: group.metrics,
    recommendations: data.recommendations.filter((r) => r.group === group.key),
  };
}

/** Pareto axes: the saved ones if measured, else latency against perplexity (quality) or memory. */
function paretoAxes(
  view: DashboardData,
  state: Partial<DashboardState>,
): { x: MetricKey; y: MetricKey; options: MetricKey[] } {
  const options = PARETO_METRICS.filter((k) => view.metrics.some((m) => m.key === k && m.measured));
  const has = (k: MetricKey | undefined): k is MetricKey => k !== undefined && options.includes(k);
  const memory: MetricKey = has('peakMemoryBytes') ? 'peakMemoryBytes' : 'amuBytes';
  const x = has(state.paretoX) ? state.paretoX : has('latencyS') ? 'latencyS' : (options[0] ?? 'latencyS');
  const yDefault = has('perplexity') && x !== 'perplexity' ? 'perplexity' : memory;
  const y = has(state.paretoY) && state.paretoY !== x ? state.paretoY : yDefault;
  return { x, y, options };
}

function renderDashboard(root: HTMLElement, fullData: DashboardData, env: Env): void {
  clear(root);
  root.setAttribute('aria-busy', 'false');
  const state = env.state.get();
  const group = chosenGroup(fullData, state.group);
  const data = groupView(fullData, group);
  const status = el('p', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const say = (text: string): void => {
    status.textContent = text;
  };

  root.appendChild(el('h1', { text: fullData.title }));
  root.appendChild(
    el('p', {
      className: 'muted',
      text: `${fullData.runs.length} run${fullData.runs.length === 1 ? '' : 's'} · generated ${fullData.generatedAt.slice(0, 19).replace('T', ' ')}Z`,
    }),
  );
  if (fullData.runs.length === 0) {
    root.appendChild(
      el('p', {
        className: 'empty-state',
        text: 'No runs to show yet. Profile a configuration (Profile variants… on a model, or the Launcher) to see results here.',
      }),
    );
    document.documentElement.dataset.rendered = 'dashboard';
    return;
  }

  // ---- group of comparable runs ----
  if (group && fullData.groups.length > 1) {
    const picker = select(
      'Group of comparable runs',
      fullData.groups.map((g) => ({ value: g.key, text: g.label })),
      group.key,
      (v) => {
        if (!fullData.groups.some((g) => g.key === v)) return;
        env.state.update({ group: v });
        renderDashboard(root, fullData, env);
        // The picker was redrawn: give the new one focus once it has rendered (Lit sets its tabindex then).
        const next = root.querySelector<HTMLElement & { updateComplete?: Promise<unknown> }>('[data-action="group"]');
        void Promise.resolve(next?.updateComplete).then(() => next?.focus());
      },
      { name: 'group' },
    );
    const stages = [...new Set(fullData.groups.map((g) => g.stage))];
    root.appendChild(
      section(
        'Group of comparable runs',
        el('div', { className: 'controls' }, [picker]),
        el('p', {
          className: 'muted group-note',
          text: `${fullData.groups.length} groups${stages.length > 1 ? ` over ${stages.length} stages (${stages.join(', ')})` : ''}. One group is shown at a time: runs compare only within the same stage, model, workload, training budget and device.`,
        }),
      ),
    );
  }
  const focused = data.runs.find((r) => r.id === fullData.focusRunId);
  if (focused)
    root.appendChild(
      el('p', {
        className: 'muted focus-note',
        text: `Showing ${focused.label} (run ${focused.id}) among the runs it compares with; its row is marked in the table.`,
      }),
    );
  const completed = data.runs.filter((r) => r.status === 'completed').length;
  if (completed === 0) {
    root.appendChild(
      el('p', {
        className: 'empty-state',
        attrs: { role: 'status' },
        text: `No run of this group completed (${data.runs.map((r) => `${r.label}: ${r.status}`).join(', ')}). Their errors are below; profile again to see results.`,
      }),
    );
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
        el('p', {
          className: 'muted',
          text: `Group: ${group?.label ?? r.group} · objectives: ${r.objectives.join(', ')}`,
        }),
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
      const r = await env.channel.request('dashboard/export', { format, runIds: fullData.runs.map((x) => x.id) });
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

  // ---- loss curves ----
  const repeats = group?.repeats ?? [];
  const withEvals = data.runs.filter((r) => r.evals.length > 0);
  const loss = chartBox(
    'chart-loss',
    'Line chart of held-out loss per run during training, with the data entropy floor',
  );
  const lossNote = el('p', { className: 'muted' });
  const lossAxis: LossAxis = state.lossAxis === 'seconds' ? 'seconds' : 'tokens';
  const drawLoss = (axis: LossAxis): void => {
    const r = drawLossCurves(loss.canvas, data.runs, repeats, axis);
    const floor = r.drawn.some((x) => x.metrics.dataEntropy.v !== null)
      ? ' Dashed: the synthetic data’s true entropy, the floor no model can beat.'
      : '';
    lossNote.textContent =
      `Held-out loss, never trained on; lower is better.${floor}${r.without.length > 0 ? ` No evaluations: ${r.without.map((x) => x.label).join(', ')}.` : ''}`.trim();
  };
  root.appendChild(
    withEvals.length > 0
      ? section(
          'Held-out loss while training',
          el('div', { className: 'controls' }, [
            select(
              'Loss curve x axis',
              LOSS_AXES,
              lossAxis,
              (v) => {
                const axis: LossAxis = v === 'seconds' ? 'seconds' : 'tokens';
                env.state.update({ lossAxis: axis });
                drawLoss(axis);
              },
              { name: 'loss-axis' },
            ),
            pngButton('loss', 'loss curve'),
          ]),
          loss.box,
          lossNote,
        )
      : section(
          'Held-out loss while training',
          el('p', {
            className: 'muted empty-state',
            text: 'No run of this group was trained to a budget, so there is no loss curve. Set a training budget (Train tokens in the Launcher, --train-tokens on the command line) to measure quality beside cost.',
          }),
        ),
  );

  // ---- Pareto ----
  const axes = paretoAxes(data, state);
  const pareto = chartBox('chart-pareto', 'Scatter of two chosen metrics per config; the recommended run is a star');
  const paretoNote = el('p', { className: 'muted' });
  const paretoLegend = el('p', { className: 'muted' });
  const metricLabel = (k: MetricKey): string => data.metrics.find((m) => m.key === k)?.label ?? k;
  const drawScatter = (x: MetricKey, y: MetricKey): void => {
    const p = drawPareto(pareto.canvas, data, x, y, repeats);
    const dir = (k: MetricKey): string =>
      data.metrics.find((m) => m.key === k)?.direction === 'max' ? 'higher' : 'lower';
    const objectives = data.recommendations[0]?.objectives ?? [];
    paretoLegend.textContent = [
      `Better: ${dir(x)} ${metricLabel(x).toLowerCase()}, ${dir(y)} ${metricLabel(y).toLowerCase()}.`,
      p.sized ? 'Point size: energy per token (larger uses more).' : '',
      'Star: the recommended config.',
      objectives.length > 0 ? `The front is over this group’s objectives: ${objectives.join(', ')}.` : '',
      repeats.length > 0 ? 'A config run with several seeds is one point at its means.' : '',
    ]
      .filter((t) => t.length > 0)
      .join(' ');
    paretoNote.textContent =
      p.missing.length > 0
        ? `Not placed (${metricLabel(x)} or ${metricLabel(y)} not measured): ${p.missing.map((r) => r.label).join(', ')}.`
        : '';
  };
  let paretoX = axes.x;
  let paretoY = axes.y;
  const axisChoices = axes.options.map((k) => ({ value: k, text: metricLabel(k) }));
  const axisPicker = (label: string, name: string, selected: MetricKey, set: (k: MetricKey) => void): HTMLElement =>
    select(
      label,
      axisChoices,
      selected,
      (v) => {
        const k = axes.options.find((o) => o === v);
        if (k) set(k);
      },
      { name },
    );
  root.appendChild(
    section(
      'Cost and quality (Pareto)',
      axes.options.length > 1
        ? el('div', { className: 'controls' }, [
            axisPicker('Pareto x axis', 'pareto-x', paretoX, (k) => {
              paretoX = k;
              env.state.update({ paretoX: k });
              drawScatter(paretoX, paretoY);
            }),
            axisPicker('Pareto y axis', 'pareto-y', paretoY, (k) => {
              paretoY = k;
              env.state.update({ paretoY: k });
              drawScatter(paretoX, paretoY);
            }),
            pngButton('pareto', 'Pareto'),
          ])
        : null,
      pareto.box,
      paretoLegend,
      paretoNote,
    ),
  );

  // ---- samples ----
  const withSamples = data.runs.filter((r) => r.samples.length > 0);
  const samples = chartBox('chart-samples', 'Line chart of memory, utilisation and power over time for the chosen run');
  const samplesNote = el('p', { className: 'muted' });
  const sampleRun =
    withSamples.find((r) => r.id === state.sampleRunId) ??
    withSamples.find((r) => r.id === fullData.focusRunId) ??
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
  const tableHost = el('div', { className: 'runs' });
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
  const columns = runColumns(
    data,
    repeats.length > 0,
    env.kind === 'webview' ? { ids: compareIds, save: (ids) => env.state.update({ compareIds: ids }) } : null,
  );
  const rec = recommendedIds(data);
  const drawTable = (sort: DashboardState['sort'], focusKey?: string): void =>
    renderTable(tableHost, {
      caption: 'Runs (select a column header to sort)',
      columns,
      rows: data.runs,
      rowKey: (r) => r.id,
      sort,
      rowClass: (r) =>
        [
          rec.has(r.id) ? 'recommended' : r.status === 'completed' ? '' : 'not-completed',
          r.id === fullData.focusRunId ? 'focused' : '',
        ]
          .filter((c) => c.length > 0)
          .join(' '),
      onSort: (s) => {
        env.state.update({ sort: s });
        drawTable(s, s.key);
      },
      focusKey,
    });
  drawTable(state.sort ?? null);
  if (repeats.length > 0) {
    const repeatsHost = el('div', { className: 'repeats' });
    const repeatCols = repeatColumns(data, repeats);
    const drawRepeats = (sort: DashboardState['sort'], focusKey?: string): void =>
      renderTable(repeatsHost, {
        caption: 'Configs over seeds: mean ± sample standard deviation (a difference inside the spread is a tie)',
        columns: repeatCols,
        rows: repeats,
        rowKey: (g) => g.runId,
        sort,
        rowClass: (g) => (rec.has(g.runId) ? 'recommended' : ''),
        onSort: (s) => drawRepeats(s, s.key),
        focusKey,
      });
    drawRepeats(null);
    root.appendChild(section('Seeds', repeatsHost));
  }
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
  if (withEvals.length > 0) drawLoss(lossAxis);
  drawScatter(paretoX, paretoY);
  if (sampleRun) drawRunSamples(sampleRun);
  if (anyRoofline) {
    const missing = drawRoofline(roofline.canvas, data);
    rooflineNote.textContent =
      missing.length > 0 ? `No roofline fraction: ${missing.map((r) => r.label).join(', ')}.` : '';
  }
  document.documentElement.dataset.rendered = 'dashboard';
}
