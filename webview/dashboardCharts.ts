// The dashboard's charts (the loss curves are in lossChart.ts). Labels and tooltips are chart.js text drawn on a canvas: run labels
// and device names never become markup.
import type { TooltipItem } from 'chart.js';
import type { DashboardData, RepeatsView } from '../src/core/webviewProtocol/dashboard';
import type { MetricColumnView, MetricKey, RunView } from '../src/core/webviewProtocol/results';
import { drawChart, readTheme, tickText } from './charts';

const axisTitle = (m: MetricColumnView): string => (m.axis.unit ? `${m.label} (${m.axis.unit})` : m.label);

export function metricColumn(data: DashboardData, key: MetricKey): MetricColumnView {
  const m = data.metrics.find((c) => c.key === key);
  if (!m) throw new Error(`no metric ${key}`);
  return m;
}

export function recommendedIds(data: DashboardData): Set<string> {
  return new Set(data.recommendations.map((r) => r.runId));
}

/** Bars of one metric across the sweep's runs; the recommended run in its own colour. */
export function drawMetricBars(canvas: HTMLCanvasElement, data: DashboardData, key: MetricKey): void {
  const theme = readTheme();
  const m = metricColumn(data, key);
  const rec = recommendedIds(data);
  const runs = data.runs;
  drawChart('bars', canvas, {
    type: 'bar',
    data: {
      labels: runs.map((r) => r.label),
      datasets: [
        {
          label: axisTitle(m),
          data: runs.map((r) => (r.metrics[key].v === null ? null : (r.metrics[key].v as number) / m.axis.divisor)),
          backgroundColor: runs.map((r) => (rec.has(r.id) ? theme.series[2] : theme.series[0])),
          borderColor: theme.fg,
          borderWidth: theme.highContrast ? 1 : 0,
        },
      ],
    },
    options: {
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'bar'>) =>
              `${runs[item.dataIndex].label}: ${runs[item.dataIndex].metrics[key].text}`,
          },
        },
      },
      scales: {
        x: { ticks: { color: theme.fg }, grid: { color: theme.grid } },
        y: {
          beginAtZero: true,
          title: { display: true, text: axisTitle(m), color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
      },
    },
  });
}

interface ParetoPlace {
  run: RunView;
  label: string;
  x: number;
  y: number;
  r: number;
  text: string;
}

/** Metrics a Pareto axis may show: costs, and quality (perplexity, held-out loss, MCR quality). */
export const PARETO_METRICS: readonly MetricKey[] = [
  'latencyS',
  'peakMemoryBytes',
  'amuBytes',
  'joulesPerToken',
  'tokensPerS',
  'perplexity',
  'valLoss',
  'quality',
];

/**
 * Scatter of two metrics (cost against cost, or cost against quality), axes from zero. A config
 * repeated over seeds is one point at its means, named "(n seeds)"; point size is energy per token
 * only where some run measured it; the front and the recommended run are marked, every point named.
 */
export function drawPareto(
  canvas: HTMLCanvasElement,
  data: DashboardData,
  xKey: MetricKey,
  yKey: MetricKey,
  repeats: readonly RepeatsView[],
): { placed: number; missing: RunView[]; sized: boolean } {
  const theme = readTheme();
  const xm = metricColumn(data, xKey);
  const ym = metricColumn(data, yKey);
  const repOf = (run: RunView): RepeatsView | undefined => repeats.find((g) => g.runIds.includes(run.id));
  const value = (run: RunView, key: MetricKey): { v: number | null; text: string } => {
    const cell = repOf(run)?.cells[key];
    return cell ? { v: cell.mean, text: cell.text } : run.metrics[key];
  };
  const shown = data.runs.filter((r) => {
    const g = repOf(r);
    return !g || g.runId === r.id;
  });
  const sized = xKey !== 'joulesPerToken' && yKey !== 'joulesPerToken';
  const energies = sized ? shown.map((r) => value(r, 'joulesPerToken').v).filter((v): v is number => v !== null) : [];
  const eMin = Math.min(...energies);
  const eMax = Math.max(...energies);
  const radius = (run: RunView): number => {
    const e = value(run, 'joulesPerToken').v;
    if (!sized || e === null || energies.length === 0) return 6;
    return eMax > eMin ? 5 + ((e - eMin) / (eMax - eMin)) * 10 : 8;
  };
  const rec = recommendedIds(data);
  const front = new Set(data.recommendations.flatMap((r) => r.front));
  const places: ParetoPlace[] = [];
  const missing: RunView[] = [];
  for (const run of shown) {
    const x = value(run, xKey);
    const y = value(run, yKey);
    const label = repOf(run)?.label ?? run.label;
    if (x.v === null || y.v === null) missing.push(run);
    else
      places.push({
        run,
        label,
        x: x.v / xm.axis.divisor,
        y: y.v / ym.axis.divisor,
        r: radius(run),
        text: `${label}: ${x.text}, ${y.text}${sized && value(run, 'joulesPerToken').v !== null ? `, ${value(run, 'joulesPerToken').text}` : ''}`,
      });
  }
  const groups: { label: string; color: string; style: 'circle' | 'star' | 'triangle'; items: ParetoPlace[] }[] = [
    { label: 'Recommended', color: theme.series[2], style: 'star', items: places.filter((p) => rec.has(p.run.id)) },
    {
      label: 'On the Pareto front',
      color: theme.series[0],
      style: 'circle',
      items: places.filter((p) => !rec.has(p.run.id) && front.has(p.run.id)),
    },
    {
      label: 'Dominated, excluded or not compared',
      color: theme.muted,
      style: 'triangle',
      items: places.filter((p) => !rec.has(p.run.id) && !front.has(p.run.id)),
    },
  ];
  const used = groups.filter((g) => g.items.length > 0);
  drawChart(
    'pareto',
    canvas,
    {
      type: 'scatter',
      data: {
        datasets: used.map((g) => ({
          label: g.label,
          data: g.items.map((p) => ({ x: p.x, y: p.y })),
          backgroundColor: g.color,
          borderColor: g.style === 'star' ? theme.fg : g.color,
          borderWidth: g.style === 'star' ? 2 : 1,
          pointStyle: g.style,
          pointRadius: g.items.map((p) => (g.style === 'star' ? p.r + 5 : p.r)),
          pointHoverRadius: g.items.map((p) => (g.style === 'star' ? p.r + 7 : p.r + 2)),
        })),
      },
      options: {
        plugins: {
          legend: { display: true, labels: { color: theme.fg, usePointStyle: true } },
          tooltip: {
            callbacks: {
              label: (item: TooltipItem<'scatter'>) => used[item.datasetIndex].items[item.dataIndex].text,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            beginAtZero: true,
            grace: '8%',
            title: { display: true, text: axisTitle(xm), color: theme.fg },
            ticks: { color: theme.fg, callback: (v) => tickText(v) },
            grid: { color: theme.grid },
          },
          y: {
            type: 'linear',
            beginAtZero: true,
            grace: '8%',
            title: { display: true, text: axisTitle(ym), color: theme.fg },
            ticks: { color: theme.fg, callback: (v) => tickText(v) },
            grid: { color: theme.grid },
          },
        },
      },
    },
    used.map((g) => g.items.map((p) => p.label)),
  );
  return { placed: places.length, missing, sized: sized && energies.length > 0 };
}

/** Memory, NVML utilisation and power over the measured window of one run. */
export function drawSamples(canvas: HTMLCanvasElement, data: DashboardData, run: RunView): void {
  const theme = readTheme();
  const memAxis = (
    data.metrics.find((c) => c.key === 'peakMemoryBytes' && c.measured) ?? metricColumn(data, 'amuBytes')
  ).axis;
  const s = run.samples;
  const hasUtil = s.some((p) => p.utilization !== null);
  const hasPower = s.some((p) => p.powerW !== null);
  const memUnit = memAxis.unit === '' || memAxis.unit === 'B' ? 'B' : memAxis.unit;
  const datasets = [
    {
      label: `Memory (${memUnit})`,
      data: s.map((p) => ({ x: p.t, y: p.memoryBytes / memAxis.divisor })),
      borderColor: theme.series[0],
      backgroundColor: theme.series[0],
      yAxisID: 'mem',
      pointRadius: 0,
      borderWidth: 2,
    },
  ];
  if (hasUtil) {
    datasets.push({
      label: 'Utilisation (NVML kernel-busy, %)',
      data: s.filter((p) => p.utilization !== null).map((p) => ({ x: p.t, y: p.utilization as number })),
      borderColor: theme.series[1],
      backgroundColor: theme.series[1],
      yAxisID: 'pct',
      pointRadius: 0,
      borderWidth: 2,
    });
  }
  if (hasPower) {
    datasets.push({
      label: 'Power (W)',
      data: s.filter((p) => p.powerW !== null).map((p) => ({ x: p.t, y: p.powerW as number })),
      borderColor: theme.series[3],
      backgroundColor: theme.series[3],
      yAxisID: 'watts',
      pointRadius: 0,
      borderWidth: 2,
    });
  }
  drawChart('samples', canvas, {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      plugins: { legend: { display: true, labels: { color: theme.fg } } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: 'Time (s)', color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
        mem: {
          type: 'linear',
          position: 'left',
          beginAtZero: true,
          title: { display: true, text: `Memory (${memUnit})`, color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
        pct: {
          type: 'linear',
          position: 'right',
          display: hasUtil,
          min: 0,
          max: 100,
          title: { display: true, text: 'Utilisation (%)', color: theme.fg },
          ticks: { color: theme.fg },
          grid: { drawOnChartArea: false },
        },
        watts: {
          type: 'linear',
          position: 'right',
          display: hasPower,
          beginAtZero: true,
          title: { display: true, text: 'Power (W)', color: theme.fg },
          ticks: { color: theme.fg },
          grid: { drawOnChartArea: false },
        },
      },
    },
  });
}

/** How close each run came to its analytic floor (100% = at the roofline). */
export function drawRoofline(canvas: HTMLCanvasElement, data: DashboardData): RunView[] {
  const theme = readTheme();
  const runs = data.runs.filter((r) => r.metrics.rooflineFraction.v !== null);
  const values = runs.map((r) => (r.metrics.rooflineFraction.v as number) * 100);
  drawChart('roofline', canvas, {
    type: 'bar',
    data: {
      labels: runs.map((r) => r.label),
      datasets: [
        {
          label: '% of roofline',
          data: values,
          backgroundColor: theme.series[3],
          borderColor: theme.fg,
          borderWidth: theme.highContrast ? 1 : 0,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'bar'>) => {
              const m = runs[item.dataIndex].metrics;
              return `${m.rooflineFraction.text} of roofline (floor ${m.floorS.text}, measured ${m.latencyS.text})`;
            },
          },
        },
      },
      scales: {
        x: {
          min: 0,
          suggestedMax: 100,
          title: { display: true, text: 'Of roofline (%)', color: theme.fg },
          ticks: { color: theme.fg },
          grid: { color: theme.grid },
        },
        y: { ticks: { color: theme.fg }, grid: { color: theme.grid } },
      },
    },
  });
  return data.runs.filter((r) => r.metrics.rooflineFraction.v === null);
}
