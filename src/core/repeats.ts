// Repeats of one config with different seeds (`--seeds 0,1,2`) folded into one point: the mean of
// each metric and its spread. "No technique wins everywhere" needs this: a difference inside the
// spread of the seeds is a tie, not a win. Pure; no I/O.
import type { ProfileConfig } from './config';
import { METRIC_NAMES, type RunMetrics, type RunRecord } from './record';

export type MetricSpread = Partial<Record<keyof RunMetrics, number>>;

/** One config's runs: the first run stands for them, with mean metrics. */
export interface Repeats {
  /** The first run of the config, with its metrics replaced by the means over every seed. */
  run: RunRecord;
  runIds: string[];
  /**
   * Per metric: the sample standard deviation over the seeds (two or more runs); with one run, the
   * standard error of the mean step time for latency (the step-to-step spread), nothing else.
   */
  spread: MetricSpread;
}

/** The config with what a repeat changes (seed, and the label that names it) left out. */
export function configWithoutSeed(cfg: ProfileConfig): string {
  const { seed: _seed, label: _label, ...rest } = cfg;
  void _seed;
  void _label;
  return JSON.stringify(rest);
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function meanAndStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** The standard error of the mean of the measured step times: the spread of one run's latency. */
export function latencyStdErr(iterationS: readonly number[]): number | null {
  if (iterationS.length < 2) return null;
  return meanAndStd(iterationS).std / Math.sqrt(iterationS.length);
}

/** Runs grouped by config without seed, in input order. A metric missing in any repeat is null. */
export function foldRepeats(runs: readonly RunRecord[]): Repeats[] {
  const byConfig = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = configWithoutSeed(r.config);
    const list = byConfig.get(key);
    if (list) list.push(r);
    else byConfig.set(key, [r]);
  }
  return [...byConfig.values()].map((list) => {
    const first = list[0];
    if (list.length === 1) {
      const se = first.metrics.latencyStdErrS;
      return { run: first, runIds: [first.id], spread: finite(se) ? { latencyS: se } : {} };
    }
    const metrics = { ...first.metrics };
    const spread: MetricSpread = {};
    for (const k of METRIC_NAMES) {
      const xs = list.map((r) => r.metrics[k]);
      if (!xs.every(finite)) {
        metrics[k] = null;
        continue;
      }
      const { mean, std } = meanAndStd(xs as number[]);
      metrics[k] = mean;
      spread[k] = std;
    }
    return { run: { ...first, metrics }, runIds: list.map((r) => r.id), spread };
  });
}
