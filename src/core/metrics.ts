// The metric math of DESIGN.md "Metrics": raw harness counters + monitor samples → RunRecord metrics.
// The harness measures (times, bytes, energy counter); this file only derives. A metric whose inputs
// were not measured stays null, never 0.
import type { ProfileConfig } from './config';
import type { ResultCounters, SampleEvent } from './protocol';
import { emptyMetrics, type RunMetrics } from './record';

export interface MetricInputs {
  config: ProfileConfig;
  counters: ResultCounters;
  samples: readonly SampleEvent[];
  /** Total memory of the device the run used (bytes), for AMU as a fraction. */
  deviceMemoryBytes: number | null;
  /** Model FLOPs of one measured iteration (analytic, src/core/estimate.ts). */
  iterationFlops: number | null;
  /** Dense peak FLOP/s of the device for the run's dtype; null where unknown (CPU). */
  peakFlopsPerS: number | null;
  /** Analytic floor time of one iteration on this device; null where unknown. */
  floorS: number | null;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Time-average of a sampled quantity over [t0, t1]: each sample holds its value until the next one
 * (a step function, as a sampler sees it), so uneven sampling does not bias the mean. The sample in
 * effect at t0 is the last one at or before it: it covers the window up to the first sample inside,
 * so a window shorter than the sampling interval still has a value. Without a sample at or before
 * t0 the window is averaged from its first sample on (what came before is not known). Null without a
 * sample at or before t1.
 */
export function timeAverage(points: readonly { t: number; v: number }[], t0: number, t1: number): number | null {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  let first = -1; // the sample in effect at t0
  for (let i = 0; i < sorted.length && sorted[i].t <= t0; i++) first = i;
  const steps = sorted.filter((p, i) => i === first || (p.t > t0 && p.t <= t1));
  if (steps.length === 0) return null;
  if (t1 <= t0) return steps[0].v;
  let area = 0;
  let span = 0;
  for (let i = 0; i < steps.length; i++) {
    const start = Math.max(t0, steps[i].t);
    const end = i + 1 < steps.length ? steps[i + 1].t : t1;
    area += steps[i].v * (end - start);
    span += end - start;
  }
  // One sample exactly at t1 spans nothing: it is the only reading of the window.
  return span > 0 ? area / span : steps[steps.length - 1].v;
}

function average(
  samples: readonly SampleEvent[],
  pick: (s: SampleEvent) => number | null,
  t0: number,
  t1: number,
): number | null {
  const points: { t: number; v: number }[] = [];
  for (const s of samples) {
    const v = pick(s);
    if (v !== null) points.push({ t: s.t, v });
  }
  return timeAverage(points, t0, t1);
}

const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : a / b;

export function computeMetrics(input: MetricInputs): RunMetrics {
  const { config, counters: c, samples } = input;
  const m = emptyMetrics();
  m.params = c.params;
  m.activeParams = c.activeParams;
  m.trainableParams = c.trainableParams;
  m.weightBytes = c.weightBytes;
  m.kvCacheBytes = c.kvCacheBytes;
  m.peakMemoryBytes = c.peakMemoryBytes;
  m.ttftS = c.ttftS;
  m.tpotS = c.tpotS;
  m.quality = c.quality;

  const measuredS = c.iterationS.length > 0 ? sum(c.iterationS) : null;
  const iterations = c.iterationS.length;
  m.latencyS = measuredS === null ? null : measuredS / iterations;

  const inference = config.stage === 'inference';
  // Inference throughput counts generated tokens (the paper's IT); training counts processed tokens.
  // An image model (ViT, DiT) generates no tokens: its throughput counts the patch tokens it processes
  // (DiT: every sampling step), and samplesPerS is images/s.
  const image = config.model.source === 'synthetic' && config.model.vision !== undefined;
  const tokensPerIteration = inference && !image ? c.generatedTokensPerIteration : c.tokensPerIteration;
  const tokens = tokensPerIteration * iterations;
  m.tokensPerS = ratio(tokens, measuredS);
  // workload.batch is per rank: a data-parallel step serves it on every rank.
  const world = config.parallel ? config.parallel.nproc * config.parallel.nodes : 1;
  m.samplesPerS = ratio(config.workload.batch * world * iterations, measuredS);
  m.tokensPerParamPerS = inference ? null : ratio(m.tokensPerS, c.activeParams);

  const t0 = c.windowStartT;
  const t1 = c.windowEndT;
  m.amuBytes = average(samples, (s) => s.memoryBytes, t0, t1);
  m.amuFraction = ratio(m.amuBytes, input.deviceMemoryBytes);
  const utilisation = average(samples, (s) => s.utilization, t0, t1);
  m.pcu = utilisation === null ? null : utilisation / 100;
  // The harness's energy-counter average where the GPU has the counter (powerMethod), since NVML's power
  // readings are 1-second averages that lag a short window; else the samples' time-average.
  m.powerW = c.powerW ?? average(samples, (s) => s.powerW, t0, t1);

  // Energy from NVML's counter where the GPU has one; otherwise mean power × window time.
  const windowS = t1 > t0 ? t1 - t0 : measuredS;
  m.energyJ = c.energyJ ?? (m.powerW !== null && windowS !== null ? m.powerW * windowS : null);
  m.joulesPerToken = ratio(m.energyJ, tokens);

  if (input.iterationFlops !== null && measuredS !== null && input.peakFlopsPerS !== null) {
    m.mfu = (input.iterationFlops * iterations) / measuredS / input.peakFlopsPerS;
  }
  m.floorS = input.floorS;
  // Share of the analytic floor reached: 1 means the run is as fast as the hardware allows.
  m.rooflineFraction = ratio(input.floorS, m.latencyS);

  m.compressionRate = ratio(c.referenceWeightBytes, c.weightBytes);
  // Quality is relative to the reference (1 = identical), so MCR = compression × quality ratio.
  m.mcr = m.compressionRate !== null && c.quality !== null ? m.compressionRate * c.quality : null;
  return m;
}
