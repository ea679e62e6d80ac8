// The dashboard's four charts. Labels and tooltips are chart.js text drawn on a canvas: run labels
// and device names never become markup.
import type { TooltipItem } from 'chart.js';
import type { DashboardData } from '../src/core/webviewProtocol/dashboard';
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
  x: number;
  y: number;
  r: number;
}

/** Peak memory where measured, else average memory (as src/core/pareto.ts does). */
function memoryOf(run: RunView): number | null {
  return run.metrics.peakMemoryBytes.v ?? run.metrics.amuBytes.v;
}

/** Latency–memory scatter, energy per token as point size, the front and the recommended run marked. */
export function drawPareto(canvas: HTMLCanvasElement, data: DashboardData): { placed: number; missing: RunView[] } {
  const theme = readTheme();
  const lat = metricColumn(data, 'latencyS');
  const mem = metricColumn(
    data,
    data.metrics.find((c) => c.key === 'peakMemoryBytes')?.measured ? 'peakMemoryBytes' : 'amuBytes',
  );
  const energies = data.runs.map((r) => r.metrics.joulesPerToken.v).filter((v): v is number => v !== null);
  const eMin = Math.min(...energies);
  const eMax = Math.max(...energies);
  const radius = (run: RunView): number => {
    const e = run.metrics.joulesPerToken.v;
    if (e === null || energies.length === 0) return 6;
    return eMax > eMin ? 5 + ((e - eMin) / (eMax - eMin)) * 10 : 8;
  };
  const rec = recommendedIds(data);
  const front = new Set(data.recommendations.flatMap((r) => r.front));
  const places: ParetoPlace[] = [];
  const missing: RunView[] = [];
  for (const run of data.runs) {
    const l = run.metrics.latencyS.v;
    const mm = memoryOf(run);
    if (l === null || mm === null) missing.push(run);
    else places.push({ run, x: l / lat.axis.divisor, y: mm / mem.axis.divisor, r: radius(run) });
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
      label: 'Dominated or not compared',
      color: theme.muted,
      style: 'triangle',
      items: places.filter((p) => !rec.has(p.run.id) && !front.has(p.run.id)),
    },
  ];
  const used = groups.filter((g) => g.items.length > 0);
  drawChart('pareto', canvas, {
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
            label: (item: TooltipItem<'scatter'>) => {
              const p = used[item.datasetIndex].items[item.dataIndex];
              const m = p.run.metrics;
              return `${p.run.label}: ${m.latencyS.text}, ${(m.peakMemoryBytes.v !== null ? m.peakMemoryBytes : m.amuBytes).text}, ${m.joulesPerToken.text}`;
            },
          },
        },
      },
      scales: {
        x: {
          type: 'linear',
          grace: '8%',
          title: { display: true, text: axisTitle(lat), color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
        y: {
          type: 'linear',
          grace: '8%',
          title: { display: true, text: axisTitle(mem), color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
      },
    },
  });
  return { placed: places.length, missing };
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
