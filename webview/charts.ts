// chart.js, bundled (no CDN), with only the parts the pages draw, coloured from VS Code's theme
// variables (media/webview.css maps them, with fallbacks for the static report, to --el-* names).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { ChartConfiguration, ChartType, Plugin } from 'chart.js';

export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  font: string;
  /** Series colours, in order: blue, orange, green, purple, red, yellow. */
  series: string[];
  good: string;
  bad: string;
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v.length > 0 ? v : fallback;
}

/** Reads the theme's colours now (they change with the VS Code theme or the OS colour scheme). */
export function readTheme(): Theme {
  const s = getComputedStyle(document.body);
  return {
    fg: cssVar(s, '--el-fg', '#1f1f1f'),
    muted: cssVar(s, '--el-muted', '#616161'),
    grid: cssVar(s, '--el-grid', 'rgba(128,128,128,0.25)'),
    bg: cssVar(s, '--el-bg', '#ffffff'),
    font: cssVar(s, '--el-font', 'system-ui, sans-serif'),
    series: ['--el-blue', '--el-orange', '--el-green', '--el-purple', '--el-red', '--el-yellow'].map((n, i) =>
      cssVar(s, n, ['#1a85ff', '#d18616', '#388a34', '#652d90', '#e51400', '#bf8803'][i]),
    ),
    good: cssVar(s, '--el-green', '#388a34'),
    bad: cssVar(s, '--el-red', '#e51400'),
    highContrast:
      document.body.classList.contains('vscode-high-contrast') ||
      document.body.classList.contains('vscode-high-contrast-light'),
  };
}

/** Calls `onChange` when VS Code switches theme (body class) or the OS switches light/dark. */
export function onThemeChange(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', onChange);
}

/** Paints the theme background under the chart, so a saved PNG is readable on any background. */
const background: Plugin = {
  id: 'efficientllmBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = readTheme().bg;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Text drawn beside each point, per chart (dataset index → point index → text), so scatters name their configs. */
const pointLabels = new WeakMap<Chart, string[][]>();

const labelPoints: Plugin = {
  id: 'efficientllmPointLabels',
  afterDatasetsDraw(chart) {
    const labels = pointLabels.get(chart as unknown as Chart);
    if (!labels) return;
    const theme = readTheme();
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = theme.fg;
    ctx.font = `11px ${theme.font}`;
    ctx.textBaseline = 'middle';
    labels.forEach((texts, di) => {
      const meta = chart.getDatasetMeta(di);
      if (meta.hidden) return;
      texts.forEach((t, pi) => {
        const p = meta.data[pi];
        if (!p || !t) return;
        // Left of the point near the right edge, so the text stays inside the chart.
        const right = p.x > chart.chartArea.right - ctx.measureText(t).width - 16;
        ctx.textAlign = right ? 'right' : 'left';
        ctx.fillText(t, p.x + (right ? -10 : 10), p.y - 8);
      });
    });
    ctx.restore();
  },
};

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  Legend,
  background,
  labelPoints,
);
// No animation (numbers, not motion); charts fill their box (.chart sets the height).
Chart.defaults.animation = false;
Chart.defaults.responsive = true;
Chart.defaults.maintainAspectRatio = false;

const charts = new Map<string, Chart>();

/** Creates (or replaces) the chart named `name` on `canvas`. */
export function drawChart<T extends ChartType>(
  name: string,
  canvas: HTMLCanvasElement,
  config: ChartConfiguration<T>,
  /** Text beside each point (scatter), by dataset and point. */
  labels?: string[][],
): Chart<T> {
  charts.get(name)?.destroy();
  const theme = readTheme();
  Chart.defaults.color = theme.fg;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.font;
  const chart = new Chart<T>(canvas, config);
  if (labels) {
    pointLabels.set(chart as unknown as Chart, labels);
    chart.update();
  }
  charts.set(name, chart as unknown as Chart);
  canvas.dataset.chart = name;
  return chart;
}

/** What is drawn, for tests and the e2e check from inside the webview (read-only summary). */
export interface ChartSummary {
  name: string;
  type: string;
  datasets: number;
  points: number;
  canvasId: string;
  /** Each dataset's label and its drawn points ([index, value] for bars), so tests check them against the data. */
  series: { label: string; xy: [number, number][] }[];
  /** Axis titles by scale id. */
  axes: Record<string, string>;
}

function pointsOf(data: readonly unknown[]): [number, number][] {
  const out: [number, number][] = [];
  data.forEach((d, i) => {
    if (typeof d === 'number') out.push([i, d]);
    else if (typeof d === 'object' && d !== null && 'x' in d && 'y' in d) {
      const { x, y } = d as { x: unknown; y: unknown };
      if (typeof x === 'number' && typeof y === 'number') out.push([x, y]);
    }
  });
  return out;
}

function axisTitles(c: Chart): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, scale] of Object.entries(c.options.scales ?? {})) {
    const title = (scale as { title?: { text?: unknown } } | undefined)?.title?.text;
    if (typeof title === 'string') out[id] = title;
  }
  return out;
}

export function chartSummaries(): ChartSummary[] {
  return [...charts.entries()].map(([name, c]) => ({
    name,
    type: String((c.config as { type?: unknown }).type ?? ''),
    datasets: c.data.datasets.length,
    points: c.data.datasets.reduce((n, d) => n + d.data.length, 0),
    canvasId: c.canvas.id,
    series: c.data.datasets.map((d) => ({ label: String(d.label ?? ''), xy: pointsOf(d.data as unknown[]) })),
    axes: axisTitles(c),
  }));
}

/** A PNG data: URL of the chart named `name`, or null when there is none. */
export function chartPng(name: string): string | null {
  const c = charts.get(name);
  return c ? c.toBase64Image('image/png', 1) : null;
}

/** Numbers on axes: three significant figures, no unit (the unit is in the axis title). */
export function tickText(v: number | string): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return String(v);
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e5 || a < 1e-3) return n.toExponential(1);
  return Number(n.toPrecision(3)).toString();
}
