// Pareto fronts over the objectives a user cares about, from measured RunMetrics. Pure; no I/O.
//
// A point dominates another when it is at least as good on every chosen objective and strictly
// better on one. Points with equal values on every objective do not dominate each other, so ties stay
// on the front together. A run that lacks a chosen objective (the metric is null) cannot be placed,
// so it is excluded from that front with a reason rather than treated as 0 or as the worst value.
import type { RunMetrics } from './record';

export const OBJECTIVES = ['latency', 'memory', 'energy', 'throughput', 'quality', 'perplexity'] as const;
export type Objective = (typeof OBJECTIVES)[number];
export type Direction = 'min' | 'max';

export interface ObjectiveSpec {
  direction: Direction;
  /** The metric read; for memory, the peak, with AMU as the fallback when the peak was not measured. */
  metric: keyof RunMetrics;
  fallback: keyof RunMetrics | null;
  /** What is missing when the value is null, for the exclusion reason. */
  missing: string;
}

export const OBJECTIVE_SPECS: Readonly<Record<Objective, ObjectiveSpec>> = {
  latency: { direction: 'min', metric: 'latencyS', fallback: null, missing: 'no latency measured (latencyS is null)' },
  memory: {
    direction: 'min',
    metric: 'peakMemoryBytes',
    fallback: 'amuBytes',
    missing: 'no memory measured (peakMemoryBytes and amuBytes are null)',
  },
  energy: {
    direction: 'min',
    metric: 'joulesPerToken',
    fallback: null,
    missing: 'no energy per token measured (joulesPerToken is null; it needs an NVML energy or power reading)',
  },
  throughput: {
    direction: 'max',
    metric: 'tokensPerS',
    fallback: null,
    missing: 'no throughput measured (tokensPerS is null)',
  },
  quality: { direction: 'max', metric: 'quality', fallback: null, missing: 'no quality measured (quality is null)' },
  // Held-out perplexity of a run trained to a budget (--train-tokens); `quality` means this when every
  // run of a group has it (recommend.ts).
  perplexity: {
    direction: 'min',
    metric: 'perplexity',
    fallback: null,
    missing: 'no held-out perplexity (the run was not trained to a budget: --train-tokens)',
  },
};

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The value of one objective for a run's metrics, or null when the run did not measure it. */
export function objectiveValue(m: RunMetrics, o: Objective): number | null {
  const spec = OBJECTIVE_SPECS[o];
  const v = m[spec.metric];
  if (finite(v)) return v;
  if (spec.fallback !== null) {
    const f = m[spec.fallback];
    if (finite(f)) return f;
  }
  return null;
}

/** True when `a` is better than `b` on objective direction `d` (strictly). */
export function better(a: number, b: number, d: Direction): boolean {
  return d === 'min' ? a < b : a > b;
}

/**
 * Whether value vector `a` dominates `b`: no worse anywhere, strictly better somewhere. With `tolerance`
 * (per objective, ≥ 0: the combined spread of the two points) a difference within it counts as equal.
 */
export function dominates(
  a: readonly number[],
  b: readonly number[],
  directions: readonly Direction[],
  tolerance: readonly number[] = [],
): boolean {
  let strictly = false;
  for (let i = 0; i < directions.length; i++) {
    const tol = tolerance[i] ?? 0;
    if (Math.abs(a[i] - b[i]) <= tol) continue;
    if (better(b[i], a[i], directions[i])) return false;
    if (better(a[i], b[i], directions[i])) strictly = true;
  }
  return strictly;
}

export interface Measured {
  id: string;
  metrics: RunMetrics;
}

export interface ParetoPoint<T> {
  item: T;
  /** Values in the order of the objectives asked for. */
  values: number[];
}

export interface ParetoResult<T> {
  objectives: Objective[];
  /** Non-dominated points, in input order. */
  front: ParetoPoint<T>[];
  /** Each dominated point with a front point that dominates it. */
  dominated: { point: ParetoPoint<T>; by: ParetoPoint<T> }[];
  /** Points lacking a chosen objective, with the reason (one clause per missing objective). */
  excluded: { item: T; missing: Objective[]; why: string }[];
}

/** The Pareto front of `items` over `objectives` (at least one). Input order is kept in every list. */
export function paretoFront<T extends Measured>(
  items: readonly T[],
  objectives: readonly Objective[],
  /** The combined spread of two items on objective i, within which they tie (seeds, step-to-step noise). */
  tolerance: (a: T, b: T, i: number) => number = () => 0,
): ParetoResult<T> {
  if (objectives.length === 0) throw new Error('paretoFront needs at least one objective');
  const directions = objectives.map((o) => OBJECTIVE_SPECS[o].direction);
  const points: ParetoPoint<T>[] = [];
  const excluded: ParetoResult<T>['excluded'] = [];
  for (const item of items) {
    const values = objectives.map((o) => objectiveValue(item.metrics, o));
    const missing = objectives.filter((_, i) => values[i] === null);
    if (missing.length > 0) {
      excluded.push({ item, missing, why: missing.map((o) => OBJECTIVE_SPECS[o].missing).join('; ') });
      continue;
    }
    points.push({ item, values: values as number[] });
  }
  const front: ParetoPoint<T>[] = [];
  const dominatedIdx: number[] = [];
  points.forEach((p, i) => {
    const tol = (q: ParetoPoint<T>): number[] => objectives.map((_, k) => tolerance(q.item, p.item, k));
    if (points.some((q, j) => j !== i && dominates(q.values, p.values, directions, tol(q)))) dominatedIdx.push(i);
    else front.push(p);
  });
  // A finite dominated point is always dominated by some front point (dominance is transitive).
  const dominated = dominatedIdx.map((i) => {
    const point = points[i];
    const by =
      front.find((f) =>
        dominates(
          f.values,
          point.values,
          directions,
          objectives.map((_, k) => tolerance(f.item, point.item, k)),
        ),
      ) ?? front[0];
    return { point, by };
  });
  return { objectives: [...objectives], front, dominated, excluded };
}
