// The loss curves of runs trained to a budget: held-out loss (nats/token) against tokens seen or wall
// time, one line per run as the harness's `eval` events reported it, seeds of one config in one colour
// (dashed after the first), and the synthetic source's entropy as a dashed floor no model can beat.
// Fine-tuning draws its base model's loss before training as a dotted line.
import type { TooltipItem } from 'chart.js';
import type { RepeatsView } from '../src/core/webviewProtocol/dashboard';
import type { RunView } from '../src/core/webviewProtocol/results';
import { drawChart, readTheme, tickText } from './charts';

export type LossAxis = 'tokens' | 'seconds';

export const LOSS_AXES: readonly { value: LossAxis; text: string }[] = [
  { value: 'tokens', text: 'Tokens seen' },
  { value: 'seconds', text: 'Wall time (s)' },
];

interface Line {
  label: string;
  data: { x: number; y: number }[];
  borderColor: string;
  backgroundColor: string;
  borderDash: number[];
  pointRadius: number;
  borderWidth: number;
}

/** Token counts as people write budgets: 37.5k, 150k, 2M. */
export function tokenTick(v: number | string): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return String(v);
  const a = Math.abs(n);
  if (a >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(Number(n.toPrecision(3)));
}

/** Distinct finite values of one metric among `runs` (a floor or a base loss drawn once each). */
function levels(runs: readonly RunView[], key: 'dataEntropy' | 'baseValLoss'): number[] {
  const vs = runs.map((r) => r.metrics[key].v).filter((v): v is number => v !== null);
  return [...new Set(vs)].slice(0, 3);
}

/** Draws the curves; returns the runs drawn and those without evals. */
export function drawLossCurves(
  canvas: HTMLCanvasElement,
  runs: readonly RunView[],
  repeats: readonly RepeatsView[],
  axis: LossAxis,
): { drawn: RunView[]; without: RunView[] } {
  const theme = readTheme();
  const drawn = runs.filter((r) => r.evals.length > 0);
  const without = runs.filter((r) => r.evals.length === 0);
  // One colour per config: seeds of a folded config share it.
  const configOf = (r: RunView): string => repeats.find((g) => g.runIds.includes(r.id))?.runId ?? r.id;
  const configs = [...new Set(drawn.map(configOf))];
  const lines: Line[] = drawn.map((r) => {
    const colour = theme.series[configs.indexOf(configOf(r)) % theme.series.length];
    const rep = repeats.find((g) => g.runIds.includes(r.id));
    const nth = rep ? rep.runIds.indexOf(r.id) : 0;
    return {
      label: r.label,
      data: r.evals.map((e) => ({ x: axis === 'tokens' ? e.tokens : e.seconds, y: e.valLoss })),
      borderColor: colour,
      backgroundColor: colour,
      borderDash: nth === 0 ? [] : [2 + 2 * nth, 3],
      pointRadius: 3,
      borderWidth: 2,
    };
  });
  const maxX = Math.max(0, ...lines.flatMap((l) => l.data.map((p) => p.x)));
  const flat = (label: string, y: number, dash: number[]): Line => ({
    label,
    data: [
      { x: 0, y },
      { x: maxX, y },
    ],
    borderColor: theme.muted,
    backgroundColor: theme.muted,
    borderDash: dash,
    pointRadius: 0,
    borderWidth: 2,
  });
  for (const h of levels(drawn, 'dataEntropy'))
    lines.push(flat(`Data entropy (floor): ${tickText(h)} nats/token`, h, [8, 5]));
  for (const b of levels(drawn, 'baseValLoss'))
    lines.push(flat(`Before fine-tuning: ${tickText(b)} nats/token`, b, [2, 4]));
  const xTitle = axis === 'tokens' ? 'Tokens seen' : 'Wall time since training began (s)';
  drawChart('loss', canvas, {
    type: 'line',
    data: { datasets: lines },
    options: {
      parsing: false,
      plugins: {
        legend: { display: true, labels: { color: theme.fg } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'line'>) =>
              `${lines[item.datasetIndex].label}: ${tickText(item.parsed.y ?? NaN)} nats/token at ${axis === 'tokens' ? `${tokenTick(item.parsed.x ?? NaN)} tokens` : `${tickText(item.parsed.x ?? NaN)} s`}`,
          },
        },
      },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          title: { display: true, text: xTitle, color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => (axis === 'tokens' ? tokenTick(v) : tickText(v)) },
          grid: { color: theme.grid },
        },
        y: {
          type: 'linear',
          title: { display: true, text: 'Held-out loss (nats/token)', color: theme.fg },
          ticks: { color: theme.fg, callback: (v) => tickText(v) },
          grid: { color: theme.grid },
        },
      },
    },
  });
  return { drawn, without };
}
