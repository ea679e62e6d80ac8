import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig, type ProfileConfig } from '../../src/core/config';
import { computeMetrics, timeAverage } from '../../src/core/metrics';
import type { ResultCounters, SampleEvent } from '../../src/core/protocol';

function config(stage: string): ProfileConfig {
  const r = resolveConfig({ model: { preset: 'tiny' }, stage, workload: { batch: 2, seqLen: 16, newTokens: 4 } });
  assert.ok(r.ok);
  return r.value;
}

const counters = (over: Partial<ResultCounters> = {}): ResultCounters => ({
  params: 1000,
  activeParams: 1000,
  trainableParams: 0,
  weightBytes: 2000,
  referenceWeightBytes: 2000,
  kvCacheBytes: 640,
  optimizerStateBytes: null,
  peakMemoryBytes: 5000,
  iterations: 4,
  iterationS: [0.5, 0.5, 1, 2],
  tokensPerIteration: 2 * 19,
  generatedTokensPerIteration: 8,
  ttftS: 0.1,
  tpotS: 0.05,
  windowStartT: 10,
  windowEndT: 14,
  energyJ: null,
  quality: null,
  loss: null,
  ...over,
});

const sample = (
  t: number,
  memoryBytes: number,
  powerW: number | null = null,
  utilization: number | null = null,
): SampleEvent => ({ type: 'sample', t, memoryBytes, powerW, utilization });

test('time average weights each sample by how long it held', () => {
  // 100 for 3 s, then 200 for 1 s → 125, where a plain mean would say 150.
  assert.equal(
    timeAverage(
      [
        { t: 0, v: 100 },
        { t: 3, v: 200 },
      ],
      0,
      4,
    ),
    125,
  );
  assert.equal(timeAverage([], 0, 1), null);
  assert.equal(timeAverage([{ t: 5, v: 1 }], 0, 1), null, 'samples outside the window do not count');
});

test('time average: the sample in effect at the window start holds until the next one (issue 12 defect 8)', () => {
  // A window shorter than the sampling interval: the reading at 9.98 is what held throughout.
  const points = [
    { t: 9.98, v: 100 },
    { t: 10.03, v: 200 },
  ];
  assert.equal(timeAverage(points, 10, 10.02), 100);
  // The first interval: 100 held from 0 to 2 and 200 from 2 on, so [1, 3] averages 150 (not 200).
  assert.equal(
    timeAverage(
      [
        { t: 0, v: 100 },
        { t: 2, v: 200 },
      ],
      1,
      3,
    ),
    150,
  );
  // With nothing before the window, it is averaged from its first sample on: 300 for 1 s, 100 for 1 s.
  assert.equal(
    timeAverage(
      [
        { t: 2, v: 300 },
        { t: 3, v: 100 },
      ],
      1,
      4,
    ),
    200,
  );
  // A sample from long before the window, then one inside: each holds its own share.
  assert.equal(
    timeAverage(
      [
        { t: -5, v: 10 },
        { t: 1, v: 30 },
      ],
      0,
      2,
    ),
    20,
  );
});

test('latency, throughput and energy follow DESIGN.md', () => {
  const samples = [sample(9, 1), sample(10, 100, 200, 50), sample(13, 200, 300, 100), sample(15, 999)];
  const m = computeMetrics({
    config: config('inference'),
    counters: counters(),
    samples,
    deviceMemoryBytes: 1000,
    iterationFlops: 1e9,
    peakFlopsPerS: 1e12,
    floorS: 0.5,
  });
  assert.equal(m.latencyS, 1); // 4 s over 4 iterations
  assert.equal(m.tokensPerS, (8 * 4) / 4); // generated tokens per second
  assert.equal(m.samplesPerS, (2 * 4) / 4);
  assert.equal(m.amuBytes, 125);
  assert.equal(m.amuFraction, 0.125);
  assert.equal(m.powerW, 225);
  assert.equal(m.pcu, 0.625);
  assert.equal(m.energyJ, 225 * 4); // no NVML counter: mean power × window
  assert.equal(m.joulesPerToken, 900 / 32);
  assert.equal(m.mfu, (1e9 * 4) / 4 / 1e12);
  assert.equal(m.rooflineFraction, 0.5);
  assert.equal(m.tokensPerParamPerS, null, 'inference reports generated tokens/s, not tokens/param/s');
});

test('unmeasured things stay null, never 0', () => {
  const m = computeMetrics({
    config: config('pretrain'),
    counters: counters({ kvCacheBytes: null }),
    samples: [],
    deviceMemoryBytes: null,
    iterationFlops: null,
    peakFlopsPerS: null,
    floorS: null,
  });
  for (const k of [
    'amuBytes',
    'amuFraction',
    'pcu',
    'powerW',
    'energyJ',
    'joulesPerToken',
    'mfu',
    'floorS',
    'rooflineFraction',
    'kvCacheBytes',
    'quality',
    'mcr',
  ] as const) {
    assert.equal(m[k], null, k);
  }
  assert.equal(m.tokensPerParamPerS, m.tokensPerS! / 1000);
});

test('the NVML energy counter wins over power × time; MCR = compression × quality', () => {
  const m = computeMetrics({
    config: config('inference'),
    counters: counters({ energyJ: 42, weightBytes: 500, quality: 0.9 }),
    samples: [sample(10, 1, 300)],
    deviceMemoryBytes: null,
    iterationFlops: null,
    peakFlopsPerS: null,
    floorS: null,
  });
  assert.equal(m.energyJ, 42);
  assert.equal(m.compressionRate, 4);
  assert.ok(Math.abs(m.mcr! - 3.6) < 1e-12);
});
