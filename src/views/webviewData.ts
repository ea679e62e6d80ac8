// Builds what the webview pages show (src/core/webviewProtocol/) from RunRecords: labels, formatted
// metrics, chart axis units, the recommendation per group of comparable runs, deltas for Compare.
// Pure; the extension host and the CLI's static report both call it, so the page itself needs no
// formatting or recommendation code (DESIGN.md rooms: webview/ imports only the message types).
import { toCsv, toJson, toMarkdown, targetText } from '../core/export';
import { NO_CONSTRAINTS, groupKeyOf, groupRuns, recommend, techniqueLabels } from '../core/recommend';
import { METRIC_NAMES } from '../core/record';
import type { RunMetrics, RunRecord } from '../core/record';
import { formatMetric, formatTimestamp, METRIC_INFO, MISSING, sig3 } from '../core/units';
import type { MetricKind } from '../core/units';
import type { CompareData, DeltaVerdict, DeltaView } from '../core/webviewProtocol/compare';
import type { DashboardData } from '../core/webviewProtocol/dashboard';
import type {
  MetricCell,
  MetricColumnView,
  MetricDirection,
  MetricKey,
  RecommendationView,
  RunView,
} from '../core/webviewProtocol/results';
import type { SidebarData } from '../core/webviewProtocol/sidebar';
import { configDifferences, differenceWarnings } from './compareDifferences';
import { dashboardGroups, defaultGroupKey, groupLabel } from './dashboardGroups';

/** Lower is better for these; higher for the `max` ones; parameter counts and utilisation are neither. */
export const METRIC_DIRECTIONS: Readonly<Record<MetricKey, MetricDirection>> = {
  params: null,
  activeParams: null,
  trainableParams: null,
  weightBytes: 'min',
  kvCacheBytes: 'min',
  peakMemoryBytes: 'min',
  amuBytes: 'min',
  amuFraction: 'min',
  pcu: null,
  mfu: 'max',
  latencyS: 'min',
  ttftS: 'min',
  tpotS: 'min',
  tokensPerS: 'max',
  samplesPerS: 'max',
  tokensPerParamPerS: 'max',
  powerW: 'min',
  energyJ: 'min',
  joulesPerToken: 'min',
  compressionRate: 'max',
  quality: 'max',
  mcr: 'max',
  floorS: null,
  rooflineFraction: 'max',
  valLoss: 'min',
  perplexity: 'min',
  dataEntropy: null,
  baseValLoss: null,
  trainTokens: null,
  latencyStdErrS: null,
  // A property of the world size, not of a technique: never an objective.
  scalingEfficiency: null,
};

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

type Scale = readonly (readonly [number, string])[];
const BYTES: Scale = [
  [1, 'B'],
  [2 ** 10, 'KiB'],
  [2 ** 20, 'MiB'],
  [2 ** 30, 'GiB'],
  [2 ** 40, 'TiB'],
];
const SECONDS: Scale = [
  [1e-9, 'ns'],
  [1e-6, 'µs'],
  [1e-3, 'ms'],
  [1, 's'],
];
const COUNT: Scale = [
  [1, ''],
  [1e3, 'K'],
  [1e6, 'M'],
  [1e9, 'B'],
  [1e12, 'T'],
];
const WATTS: Scale = [
  [1, 'W'],
  [1e3, 'kW'],
];
const JOULES: Scale = [
  [1e-6, 'µJ'],
  [1e-3, 'mJ'],
  [1, 'J'],
  [1e3, 'kJ'],
  [1e6, 'MJ'],
];

/** The largest step of `scale` that keeps `max` at 1 or more (the smallest step when none does). */
function pick(scale: Scale, max: number): readonly [number, string] {
  let chosen = scale[0];
  for (const step of scale) if (max >= step[0]) chosen = step;
  return chosen;
}

/** How a chart axis shows a metric, from the largest magnitude among `values`. */
export function axisFor(kind: MetricKind, values: readonly (number | null)[]): { divisor: number; unit: string } {
  const max = Math.max(0, ...values.filter(finite).map(Math.abs));
  const one = (s: Scale, suffix = ''): { divisor: number; unit: string } => {
    const [divisor, unit] = pick(s, max);
    return { divisor, unit: `${unit}${suffix}`.trim() };
  };
  switch (kind) {
    case 'bytes':
      return one(BYTES);
    case 'seconds':
      return one(SECONDS);
    case 'count':
      return one(COUNT, ' params');
    case 'fraction':
      return { divisor: 0.01, unit: '%' };
    case 'tokensPerS':
      return one(COUNT, ' tok/s');
    case 'samplesPerS':
      return one(COUNT, ' samples/s');
    case 'watts':
      return one(WATTS);
    case 'joules':
      return one(JOULES);
    case 'joulesPerToken':
      return one(JOULES, '/tok');
    case 'tokensPerParamPerS':
      return { divisor: 1, unit: 'tok/param/s' };
    case 'ratio':
      return { divisor: 1, unit: '×' };
    case 'number':
      return { divisor: 1, unit: '' };
  }
}

export function metricColumns(runs: readonly RunRecord[]): MetricColumnView[] {
  return METRIC_NAMES.map((key) => {
    const info = METRIC_INFO[key];
    const values = runs.map((r) => r.metrics[key]);
    return {
      key,
      label: info.label,
      unit: info.unit,
      direction: METRIC_DIRECTIONS[key],
      // Counts are parameters except the training budget, which counts tokens.
      axis:
        key === 'trainTokens'
          ? { ...axisFor(info.kind, values), unit: axisFor(info.kind, values).unit.replace('params', 'tokens') }
          : axisFor(info.kind, values),
      measured: values.some(finite),
    };
  });
}

function metricCells(m: RunMetrics): Record<MetricKey, MetricCell> {
  const out = {} as Record<MetricKey, MetricCell>;
  for (const k of METRIC_NAMES) {
    const v = finite(m[k]) ? m[k] : null;
    out[k] = { v, text: formatMetric(k, v) };
  }
  return out;
}

/**
 * Labels unique within `runs`: what differs between them (techniqueLabels), then the config's own
 * label where that tells repeats apart, then the short id.
 */
export function runLabels(runs: readonly RunRecord[]): Map<string, string> {
  const base = techniqueLabels(runs);
  const out = new Map<string, string>();
  const count = (m: Map<string, string>, v: string): number => [...m.values()].filter((x) => x === v).length;
  for (const r of runs) out.set(r.id, base.get(r.id) ?? r.id);
  for (const r of runs) {
    const l = out.get(r.id) as string;
    if (count(base, l) <= 1) continue;
    // Repeats over seeds are told apart by their seed; other repeats by the id's tail.
    const seeds = runs.filter((x) => base.get(x.id) === l).map((x) => x.config.seed);
    const bySeed = new Set(seeds).size === seeds.length;
    out.set(r.id, bySeed ? `${l} · seed ${r.config.seed}` : `${l} · ${r.id.slice(-4)}`);
  }
  // Ids ending alike: fall back to the whole id.
  for (const r of runs) {
    const l = out.get(r.id) as string;
    if (count(out, l) > 1) out.set(r.id, `${base.get(r.id) ?? ''} · ${r.id}`.replace(/^ · /, ''));
  }
  // Runs of several stages (Compare across them): say each one's stage, never only "fp32 vs bf16".
  if (new Set(runs.map((r) => r.config.stage)).size > 1)
    for (const r of runs) out.set(r.id, `${out.get(r.id) as string} · ${r.config.stage}`);
  return out;
}

export function runView(r: RunRecord, label: string): RunView {
  const t0 = r.samples.length > 0 ? r.samples[0].t : 0;
  return {
    id: r.id,
    label,
    configLabel: r.config.label,
    status: r.status,
    target: targetText(r.target),
    device: r.env.device?.name ?? null,
    createdAt: r.createdAt,
    createdText: formatTimestamp(r.createdAt),
    stage: r.config.stage,
    attention: r.config.attention.kind,
    precision: r.config.precision,
    seed: r.config.seed,
    group: groupKeyOf(r).key,
    metrics: metricCells(r.metrics),
    samples: r.samples.map((s) => ({
      t: s.t - t0,
      memoryBytes: s.memoryBytes,
      utilization: s.utilization,
      powerW: s.powerW,
    })),
    evals: (r.evals ?? [])
      .filter((e) => finite(e.tokens) && finite(e.seconds) && finite(e.valLoss))
      .map((e) => ({ tokens: e.tokens, seconds: e.seconds, valLoss: e.valLoss })),
    measurement: r.measurement,
    error: r.error ? { kind: r.error.kind, message: r.error.message, stderrTail: r.error.stderrTail } : null,
  };
}

/** Oldest first (the order a sweep ran in); ties by id. */
function sweepOrder(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

export function recommendations(runs: readonly RunRecord[]): RecommendationView[] {
  const report = recommend(runs, { objectives: null, constraints: NO_CONSTRAINTS });
  const out: RecommendationView[] = [];
  for (const g of report.groups) {
    if (g.recommendation === null) continue;
    out.push({
      group: g.key,
      runId: g.recommendation.runId,
      label: g.recommendation.label,
      reason: g.recommendation.reason,
      front: g.front,
      objectives: g.objectives,
    });
  }
  return out;
}

export interface DashboardOptions {
  title?: string;
  /** Include CSV/Markdown/JSON texts for Blob downloads (the static report). */
  withExports?: boolean;
  now?: Date;
  /** A run to open highlighted in its group (DashboardData.focusRunId). */
  focusRunId?: string;
}

export function dashboardData(records: readonly RunRecord[], options: DashboardOptions = {}): DashboardData {
  const runs = sweepOrder(records);
  // Labels name what differs within each group of comparable runs, as the page shows one group at a time.
  const labels = new Map(groupRuns(runs).flatMap((g) => [...runLabels(g.runs)]));
  const groups = dashboardGroups(runs, metricColumns);
  return {
    title: options.title ?? defaultTitle(runs),
    generatedAt: (options.now ?? new Date()).toISOString(),
    metrics: metricColumns(runs),
    runs: runs.map((r) => runView(r, labels.get(r.id) ?? r.id)),
    recommendations: recommendations(runs),
    groups,
    defaultGroup: defaultGroupKey(runs, groups),
    focusRunId:
      options.focusRunId !== undefined && runs.some((r) => r.id === options.focusRunId) ? options.focusRunId : null,
    exports: options.withExports ? { csv: toCsv(runs), md: toMarkdown(runs), json: toJson(runs) } : null,
  };
}

function defaultTitle(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return 'EfficientLLM results: no runs';
  const groups = groupRuns(runs);
  const what = groups.length === 1 ? groups[0].key.key : `${groups.length} groups of comparable runs`;
  return `EfficientLLM results: ${runs.length} run${runs.length === 1 ? '' : 's'} · ${what}`;
}

// ---- Compare ----

/** `run` against `base` on `key`; null when either did not measure it. Within 0.5% counts as the same. */
export function deltaOf(
  key: MetricKey,
  base: number | null,
  run: number | null,
  /** False for runs of different groups (stage, model, workload, device): then neither is better. */
  comparable = true,
): DeltaView | null {
  if (!finite(base) || !finite(run)) return null;
  const diff = run - base;
  const pct = base !== 0 ? (diff / Math.abs(base)) * 100 : null;
  const sign = diff > 0 ? '+' : diff < 0 ? '−' : '±';
  // A difference of two percentages is in points ("+2.5 pp"), so it is not read as a relative change.
  const magnitude =
    METRIC_INFO[key].kind === 'fraction' ? `${sig3(Math.abs(diff) * 100)} pp` : formatMetric(key, Math.abs(diff));
  const absText = `${diff === 0 ? '±' : sign}${magnitude}`;
  const pctText = pct === null ? MISSING : `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${sig3(Math.abs(pct))}%`;
  const dir = METRIC_DIRECTIONS[key];
  const same = diff === 0 || (pct !== null && Math.abs(pct) < 0.5);
  let verdict: DeltaVerdict;
  if (dir === null || !comparable) verdict = 'neutral';
  else if (same) verdict = 'same';
  else verdict = (dir === 'min' ? diff < 0 : diff > 0) ? 'better' : 'worse';
  return { absText, pct, pctText, verdict };
}

export function compareData(
  records: readonly RunRecord[],
  options: { baselineId?: string; title?: string; now?: Date } = {},
): CompareData {
  if (records.length === 0) throw new Error('compareData needs at least one run');
  const runs = sweepOrder(records);
  const labels = runLabels(runs);
  const groupOf = new Map(runs.map((r) => [r.id, groupKeyOf(r).key]));
  const deltas: CompareData['deltas'] = {};
  for (const b of runs) {
    const perRun: Record<string, Partial<Record<MetricKey, DeltaView | null>>> = {};
    for (const r of runs) {
      if (r.id === b.id) continue;
      const cells: Partial<Record<MetricKey, DeltaView | null>> = {};
      const comparable = groupOf.get(r.id) === groupOf.get(b.id);
      for (const k of METRIC_NAMES) cells[k] = deltaOf(k, b.metrics[k], r.metrics[k], comparable);
      perRun[r.id] = cells;
    }
    deltas[b.id] = perRun;
  }
  const baselineId =
    options.baselineId !== undefined && runs.some((r) => r.id === options.baselineId) ? options.baselineId : runs[0].id;
  return {
    title: options.title ?? `Compare ${runs.length} runs`,
    generatedAt: (options.now ?? new Date()).toISOString(),
    metrics: metricColumns(runs),
    runs: runs.map((r) => runView(r, labels.get(r.id) ?? r.id)),
    differences: configDifferences(runs),
    warnings: differenceWarnings(runs),
    baselineId,
    deltas,
  };
}

// ---- Sidebar ----

/** Each shown where the sweep measured it; perplexity where its runs were trained to a budget. */
export const SIDEBAR_HEADLINE: readonly MetricKey[] = [
  'latencyS',
  'peakMemoryBytes',
  'tokensPerS',
  'joulesPerToken',
  'perplexity',
];

/** The latest sweep: the group of comparable runs holding the newest run. */
export function sidebarData(records: readonly RunRecord[]): SidebarData {
  if (records.length === 0) return { sweep: null, headline: [], runs: [], recommendation: null };
  const newest = [...records].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
  const group = groupRuns(records).find((g) => g.runs.some((r) => r.id === newest.id));
  const runs = sweepOrder(group ? group.runs : [newest]);
  const labels = runLabels(runs);
  const cols = metricColumns(runs).filter((c) => SIDEBAR_HEADLINE.includes(c.key) && c.measured);
  const rec = recommendations(runs)[0] ?? null;
  return {
    sweep: group ? groupLabel(group.key, group.runs) : null,
    headline: SIDEBAR_HEADLINE.map((k) => cols.find((c) => c.key === k)).filter(
      (c): c is MetricColumnView => c !== undefined,
    ),
    runs: runs.map((r) => runView(r, labels.get(r.id) ?? r.id)),
    recommendation: rec,
  };
}
