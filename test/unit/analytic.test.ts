import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticFor } from '../../src/core/analytic';
import { resolveConfig, type ProfileConfig } from '../../src/core/config';
import { iterationFloorS, iterationFlops } from '../../src/core/estimate';
import { findGpu, peakFlops } from '../../src/core/gpus';
import type { ResultCounters } from '../../src/core/protocol';

function cfg(precision = 'bf16'): ProfileConfig {
  const r = resolveConfig({ model: { preset: '0.5b' }, precision, stage: 'inference' });
  assert.ok(r.ok);
  return r.value;
}

const counters = (peak: number | null, bandwidth: number | null): ResultCounters => ({
  params: 1,
  activeParams: 1,
  trainableParams: 0,
  weightBytes: 1,
  referenceWeightBytes: 1,
  kvCacheBytes: null,
  optimizerStateBytes: null,
  peakMemoryBytes: null,
  iterations: 1,
  iterationS: [1],
  tokensPerIteration: 1,
  generatedTokensPerIteration: 1,
  ttftS: null,
  tpotS: null,
  windowStartT: 0,
  windowEndT: 1,
  energyJ: null,
  quality: null,
  loss: null,
  measuredPeakFlopsPerS: peak,
  measuredBandwidthBytesPerS: bandwidth,
});

test('a catalogued GPU uses its datasheet peak and floor, ignoring any calibration', () => {
  const a = analyticFor(cfg(), 'NVIDIA H100 80GB HBM3', 85e9, counters(1, 1));
  const h100 = findGpu('NVIDIA H100 80GB HBM3')!;
  assert.equal(a.peakFlopsPerS, peakFlops(h100, 'bf16'));
  assert.equal(a.floorS, iterationFloorS(cfg(), h100));
  assert.match(a.peakSource, /datasheet/);
});

test('a CPU uses the peak and bandwidth the harness measured, labelled as measured', () => {
  const a = analyticFor(cfg('fp32'), 'AMD EPYC 7B13', 32e9, counters(1e11, 2e10));
  assert.equal(a.peakFlopsPerS, 1e11);
  assert.equal(a.iterationFlops, iterationFlops(cfg('fp32')));
  assert.ok(a.floorS !== null && a.floorS >= a.iterationFlops! / 1e11, 'the floor is at least FLOPs ÷ measured peak');
  assert.match(a.peakSource, /measured on this device/);
});

test('without a datasheet or a calibration, MFU and the floor stay unknown', () => {
  const a = analyticFor(cfg(), 'Mystery Accelerator', null, counters(null, null));
  assert.equal(a.peakFlopsPerS, null);
  assert.equal(a.floorS, null);
  assert.notEqual(a.iterationFlops, null);
});
