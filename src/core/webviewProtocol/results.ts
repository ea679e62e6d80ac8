// What the result pages (dashboard, compare, sidebar) show of runs: already computed and formatted by
// the host (src/views/webviewData.ts builds it), so the page only draws. Every value here is data: run
// labels, device names, paths and error text are rendered with textContent or chart labels, never as HTML.
import { METRIC_NAMES, RUN_STATUSES } from '../record';
import type { RunMetrics } from '../record';
import { array, bool, isObject, keyed, nullable, num, obj, oneOf, str } from './guard';
import type { Infer } from './guard';

export type MetricKey = keyof RunMetrics;

/** Which way is better for a metric; null where neither is (parameter counts). */
const isMetricDirection = nullable(oneOf(['min', 'max'] as const));
export type MetricDirection = Infer<typeof isMetricDirection>;

/** A metric column: its name, unit and how to scale raw values for a chart axis. */
export const isMetricColumnView = obj({
  key: oneOf<MetricKey>(METRIC_NAMES),
  label: str,
  /** Unit of the raw stored number, e.g. "bytes". */
  unit: str,
  direction: isMetricDirection,
  /** Chart axis: plotted value = raw ÷ divisor, axis titled `${label} (${unit})`. Chosen from the data's range. */
  axis: obj({ divisor: num, unit: str }),
  /** True when at least one run measured it. */
  measured: bool,
});
export type MetricColumnView = Infer<typeof isMetricColumnView>;

/** One metric of one run: the raw number (null = not measured, never 0) and its formatted text. */
const isMetricCell = obj({ v: nullable(num), text: str });
export type MetricCell = Infer<typeof isMetricCell>;

/** One monitor sample: seconds since the run's first sample, bytes, NVML % (0–100), watts. */
const isSampleView = obj({ t: num, memoryBytes: num, utilization: nullable(num), powerW: nullable(num) });

/** One held-out evaluation while training to a budget: tokens seen, seconds since training began, loss (nats/token). */
const isEvalView = obj({ tokens: num, seconds: num, valLoss: num });
export type EvalView = Infer<typeof isEvalView>;

export const isRunView = obj({
  id: str,
  /** Unique, short within the page: what differs between the runs ("GQA-2", "MQA bf16"). */
  label: str,
  /** The config's own label as the user gave it. */
  configLabel: str,
  status: oneOf(RUN_STATUSES),
  /** "local", "ssh:ALIAS", "slurm:ALIAS". */
  target: str,
  device: nullable(str),
  createdAt: str,
  /** createdAt as "YYYY-MM-DD HH:MM:SSZ". */
  createdText: str,
  stage: str,
  attention: str,
  precision: str,
  /** The seed of weights and data (repeats of one config differ only in it). */
  seed: num,
  /** The group of comparable runs it belongs to (DashboardData.groups[].key). */
  group: str,
  metrics: keyed(METRIC_NAMES, isMetricCell),
  samples: array(isSampleView),
  /** Held-out evaluations in order ([] when the run was not trained to a budget). */
  evals: array(isEvalView),
  /** How memory, utilisation, power and time were measured, for the reader. */
  measurement: nullable(obj({ memory: str, utilization: str, power: str, timing: str })),
  error: nullable(obj({ kind: str, message: str, stderrTail: str })),
});
export type RunView = Infer<typeof isRunView>;

/** The recommended run of one group of comparable runs, and the front it was chosen from. */
export const isRecommendationView = obj({
  group: str,
  runId: str,
  label: str,
  reason: str,
  /** Ids of the runs on the Pareto front of this group. */
  front: array(str),
  objectives: array(str),
});
export type RecommendationView = Infer<typeof isRecommendationView>;

/** The params of the commands that open another panel on some runs. */
export const runIdsParams = obj({ runIds: array(str) });

/** The params of a request that takes none. */
export const noParams = (v: unknown): v is Record<string, never> => isObject(v) && Object.keys(v).length === 0;
