// RunRecords of a realistic inference sweep on one GPU (MHA, GQA-2, MQA, GQA-2 fp16) with monitor
// samples, plus a failed run, for the page tests; and hostile text for the security tests.
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/core/config';
import type { ProfileConfigInput } from '../../src/core/config';
import { emptyMetrics } from '../../src/core/record';
import type { RunMetrics, RunRecord } from '../../src/core/record';

/** Text that would run as script if any of it reached the page as markup or a URL. */
export const HOSTILE = {
  img: '<img src=x onerror=window.__pwned=1>',
  script: '</script><script>window.__pwned=1</script>',
  svg: '"><svg onload=window.__pwned=1>',
  js: 'javascript:window.__pwned=1',
  comment: '<!--<script>window.__pwned=1</script>-->',
} as const;

const GiB = 2 ** 30;

function config(input: ProfileConfigInput) {
  const c = resolveConfig({ model: { preset: 'tiny' }, stage: 'inference', ...input });
  assert.ok(c.ok, c.ok ? '' : JSON.stringify(c.errors));
  return c.value;
}

function samples(peak: number, powerW: number, n = 40): RunRecord['samples'] {
  const out: RunRecord['samples'] = [];
  for (let i = 0; i < n; i++) {
    const ramp = Math.min(1, (i + 1) / 8);
    out.push({
      t: 100 + i * 0.05,
      memoryBytes: Math.round(peak * (0.55 + 0.45 * ramp)),
      utilization: Math.round(60 + 35 * ramp),
      powerW: Math.round(90 + (powerW - 90) * ramp),
    });
  }
  return out;
}

function metrics(latencyS: number, peakGiB: number, powerW: number, quality: number): RunMetrics {
  const tokens = 32;
  const floorS = 0.0121;
  return {
    ...emptyMetrics(),
    params: 2_397_696,
    activeParams: 2_397_696,
    trainableParams: 0,
    weightBytes: 4_795_392,
    kvCacheBytes: 1_310_720,
    peakMemoryBytes: Math.round(peakGiB * GiB),
    amuBytes: Math.round(peakGiB * 0.82 * GiB),
    amuFraction: (peakGiB * 0.82) / 80,
    pcu: 0.81,
    mfu: 0.012 / latencyS,
    latencyS,
    ttftS: latencyS * 0.18,
    tpotS: (latencyS * 0.82) / tokens,
    tokensPerS: tokens / latencyS,
    powerW,
    energyJ: powerW * latencyS,
    joulesPerToken: (powerW * latencyS) / tokens,
    quality,
    floorS,
    rooflineFraction: floorS / latencyS,
  };
}

interface Options {
  device?: string;
  target?: string;
  labelSuffix?: string;
  errorMessage?: string;
  stderrTail?: string;
}

/** Five runs: four completed (one clearly best on latency and memory), one out of memory. */
export function sweep(options: Options = {}): RunRecord[] {
  const device = options.device ?? 'NVIDIA H100 80GB HBM3';
  const env: RunRecord['env'] = {
    python: '3.11.2',
    torch: '2.4.0',
    cuda: '12.4',
    device: { name: device, memoryBytes: 80 * GiB },
    nvml: true,
    powerScope: 'gpu',
    memorySource: 'nvml',
  };
  const measurement = {
    memory: 'NVML device memory used',
    utilization: 'NVML kernel-busy share',
    power: 'NVML power (GPU)',
    timing: 'CUDA events',
  };
  const target = { kind: 'ssh' as const, name: options.target ?? 'gpu-box' };
  const suffix = options.labelSuffix ?? '';
  const base = (id: string, minute: number, input: ProfileConfigInput, m: RunMetrics, peakGiB: number): RunRecord => ({
    schema: 1,
    id,
    createdAt: `2025-06-01T10:${String(minute).padStart(2, '0')}:00.000Z`,
    status: 'completed',
    target,
    config: config(input),
    env,
    metrics: m,
    measurement,
    samples: samples(peakGiB * GiB, m.powerW ?? 300),
    protocolProblems: [],
    error: null,
  });
  const runs = [
    base(
      '20250601-100000-a1b2',
      0,
      { label: `tiny mha bf16${suffix}`, attention: { kind: 'mha' }, precision: 'bf16' },
      metrics(0.0452, 2.6, 318, 1),
      2.6,
    ),
    base(
      '20250601-100100-c3d4',
      1,
      { label: `tiny gqa-2 bf16${suffix}`, attention: { kind: 'gqa', kvHeads: 2 }, precision: 'bf16' },
      metrics(0.0398, 1.9, 305, 0.998),
      1.9,
    ),
    base(
      '20250601-100200-e5f6',
      2,
      { label: `tiny mqa bf16${suffix}`, attention: { kind: 'mqa' }, precision: 'bf16' },
      metrics(0.0391, 1.8, 300, 0.981),
      1.8,
    ),
    base(
      '20250601-100300-a7b8',
      3,
      { label: `tiny gqa-2 fp16${suffix}`, attention: { kind: 'gqa', kvHeads: 2 }, precision: 'fp16' },
      metrics(0.044, 2.3, 312, 0.997),
      2.3,
    ),
  ];
  const failed: RunRecord = {
    ...base(
      '20250601-100400-c9d0',
      4,
      { label: `tiny mha fp32${suffix}`, attention: { kind: 'mha' }, precision: 'fp32' },
      emptyMetrics(),
      0,
    ),
    status: 'failed',
    samples: [],
    error: {
      kind: 'oom',
      message: options.errorMessage ?? 'CUDA out of memory. Tried to allocate 2.00 GiB',
      stderrTail:
        options.stderrTail ??
        'Traceback (most recent call last):\n  File "run.py", line 3\ntorch.OutOfMemoryError: CUDA out of memory',
    },
  };
  return [...runs, failed];
}

/** The same sweep with hostile text in every remote field that reaches the page. */
export function hostileSweep(): RunRecord[] {
  return sweep({
    device: HOSTILE.img,
    target: HOSTILE.svg,
    labelSuffix: ` ${HOSTILE.script} ${HOSTILE.js}`,
    errorMessage: `${HOSTILE.script}\n${HOSTILE.img}`,
    stderrTail: `${HOSTILE.comment}\n${HOSTILE.svg}\n${HOSTILE.js}`,
  });
}
