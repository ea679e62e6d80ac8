// The rows of `npm run bench` and the arithmetic behind them, kept apart from the measuring so a unit
// test (test/unit/bench-rows.test.ts) can check the ratios, budgets and alternation on made-up numbers.
//
// Every row compares our figure (value) with a baseline measured in the same run on the same input,
// in the same unit, so ratio = baseline ÷ value means the same thing everywhere: how many times
// cheaper ours is (for a time or a byte count) or, for a throughput, how many times faster the
// baseline is (a ratio just over 1 is the cost of what ours adds). A figure that was not measured is
// null, and so are its ratio and verdict: a row never reports a number it did not measure.

export type Op = '<' | '<=' | '>=';

/** A budget on the value (in the row's unit) or on the ratio (baseline ÷ value). */
export interface Budget {
  on: 'value' | 'ratio';
  op: Op;
  limit: number;
}

export interface Row {
  name: string;
  value: number | null;
  unit: string;
  /** The budget as text, e.g. "value <= 0.2 s" or "ratio >= 4"; null for an informational row. */
  budget: string | null;
  baseline: number | null;
  /** baseline ÷ value. */
  ratio: number | null;
  /** Against the budget; null without a budget or without a measurement. */
  pass: boolean | null;
  /** Why a row was not measured (only then). */
  note?: string;
}

const holds = (x: number, op: Op, limit: number): boolean =>
  op === '<' ? x < limit : op === '<=' ? x <= limit : x >= limit;

export function budgetText(b: Budget, unit: string): string {
  return b.on === 'value' ? `value ${b.op} ${b.limit} ${unit}`.trimEnd() : `ratio ${b.op} ${b.limit}`;
}

export function row(name: string, unit: string, value: number | null, baseline: number | null, budget?: Budget): Row {
  const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);
  const ratio = finite(value) && finite(baseline) && value !== 0 ? baseline / value : null;
  const judged = budget === undefined ? null : budget.on === 'value' ? (finite(value) ? value : null) : ratio;
  return {
    name,
    value: finite(value) ? value : null,
    unit,
    budget: budget ? budgetText(budget, unit) : null,
    baseline: finite(baseline) ? baseline : null,
    ratio,
    pass: budget === undefined || judged === null ? null : holds(judged, budget.op, budget.limit),
  };
}

/**
 * A ratio row built from A/B pairs: its verdict stands only when every pair's own ratio (baseline ÷ ours
 * of that pair) gives the same one. When pairs disagree, the noise between them is larger than the
 * budget's margin and the row cannot say pass or fail: pass is null and the note gives the pairs.
 */
export function pairedRow(name: string, unit: string, ours: number[], baseline: number[], budget: Budget): Row {
  const r = row(name, unit, median(ours), median(baseline), budget);
  if (budget.on !== 'ratio' || r.pass === null) return r;
  const ratios = ours.map((v, i) => baseline[i] / v);
  const verdicts = new Set(ratios.map((x) => holds(x, budget.op, budget.limit)));
  if (verdicts.size === 1) return r;
  return {
    ...r,
    pass: null,
    note: `not resolved: the pairs' ratios ${ratios.map((x) => x.toFixed(3)).join(', ')} straddle the budget`,
  };
}

/** A row that could not be measured: nulls, and the reason. */
export function notMeasured(name: string, unit: string, note: string, budget?: Budget): Row {
  return { ...row(name, unit, null, null, budget), note };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) throw new Error('median of no samples');
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs `ours` and `baseline` alternately, A B A B … `times` times each, and returns what each gave,
 * in order. A machine that slows down or speeds up during the bench (other processes, thermal) then
 * weighs on both sides alike instead of on whichever ran second.
 */
export async function alternate<A, B = A>(
  times: number,
  ours: (i: number) => Promise<A> | A,
  baseline: (i: number) => Promise<B> | B,
): Promise<{ ours: A[]; baseline: B[] }> {
  const out: { ours: A[]; baseline: B[] } = { ours: [], baseline: [] };
  for (let i = 0; i < times; i++) {
    out.ours.push(await ours(i));
    out.baseline.push(await baseline(i));
  }
  return out;
}

/**
 * Wall and CPU milliseconds `fn` takes. The budgets are on wall time (what a user waits); the CPU time
 * (this process, all threads) is beside it because on a shared machine the wall time also counts the
 * waits for a core, which the CPU time leaves out.
 */
export async function measure(fn: () => Promise<unknown> | unknown): Promise<{ wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000 };
}

/** A part of the benchmark, selected with `--only NAME`: its rows join the one JSON object. */
export interface BenchSection {
  name: string;
  run(): Promise<Row[]>;
  /** What the last run saw beyond its rows (a profile, per-pair figures): `details.<name>` in the JSON. */
  details?(): unknown;
}
