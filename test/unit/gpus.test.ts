import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GPUS, GPU_NAMES, findGpu, findGpuByUserName, peakFlops } from '../../src/core/gpus';

const GiB = 2 ** 30;

test('findGpu maps the names torch and NVML report', () => {
  const cases: [string, string][] = [
    ['NVIDIA H100 80GB HBM3', 'H100 SXM'],
    ['NVIDIA H100 PCIe', 'H100 PCIe'],
    ['NVIDIA H200', 'H200'],
    ['NVIDIA GH200 480GB', 'GH200 96GB'],
    ['NVIDIA GH200 144G HBM3e', 'GH200 144GB'],
    ['NVIDIA A100-SXM4-80GB', 'A100 SXM 80GB'],
    ['NVIDIA A100-SXM4-40GB', 'A100 SXM 40GB'],
    ['NVIDIA L40S', 'L40S'],
    ['NVIDIA GeForce RTX 4090', 'RTX 4090'],
    ['cpu', 'CPU'],
  ];
  for (const [device, want] of cases) assert.equal(findGpu(device)?.name, want, device);
});

test('findGpu accepts catalogue names and rejects other parts', () => {
  for (const n of GPU_NAMES) assert.equal(findGpu(n)?.name, n);
  assert.equal(findGpu('h100 sxm')?.name, 'H100 SXM');
  // GH200 must not fall into H200; H200 NVL, L40 and RTX 4090 D are different parts.
  assert.equal(findGpu('NVIDIA GH200 480GB')?.name.startsWith('GH200'), true);
  assert.equal(findGpu('NVIDIA H200 NVL'), null);
  assert.equal(findGpu('NVIDIA L40'), null);
  assert.equal(findGpu('NVIDIA GeForce RTX 4090 D'), null);
  assert.equal(findGpu('Tesla V100-SXM2-32GB'), null);
});

test('findGpu tells GH200 variants apart by memory when it is known', () => {
  // What torch reports as total_memory is a little under the marketed capacity.
  assert.equal(findGpu('NVIDIA GH200 480GB', 94.5 * GiB)?.name, 'GH200 96GB');
  assert.equal(findGpu('NVIDIA GH200 480GB', 139.8 * GiB)?.name, 'GH200 144GB');
  assert.equal(findGpu('NVIDIA GH200 144G HBM3e', 139.8 * GiB)?.name, 'GH200 144GB');
  assert.equal(findGpu('NVIDIA GH200', null)?.name, 'GH200 96GB');
  assert.equal(findGpu('NVIDIA A100-SXM4-80GB', 79.2 * GiB)?.name, 'A100 SXM 80GB');
});

test('peakFlops picks the dtype peak: fp32 not tf32, int4 at bf16, null where missing', () => {
  const h100 = findGpu('NVIDIA H100 80GB HBM3');
  assert.ok(h100);
  assert.equal(peakFlops(h100, 'fp32'), 67e12);
  assert.equal(peakFlops(h100, 'bf16'), 989.5e12);
  assert.equal(peakFlops(h100, 'fp16'), 989.5e12);
  assert.equal(peakFlops(h100, 'fp8'), 1979e12);
  assert.equal(peakFlops(h100, 'int8'), 1979e12);
  assert.equal(peakFlops(h100, 'int4'), peakFlops(h100, 'bf16'));
  const a100 = findGpu('NVIDIA A100-SXM4-40GB');
  assert.ok(a100);
  assert.equal(peakFlops(a100, 'fp8'), null);
  assert.equal(peakFlops(a100, 'bf16'), 312e12);
  const cpu = findGpu('cpu');
  assert.ok(cpu);
  for (const p of ['fp32', 'bf16', 'fp16', 'int8', 'int4', 'fp8'] as const) assert.equal(peakFlops(cpu, p), null);
});

test('catalogue figures are dense and consistent', () => {
  for (const g of GPUS) {
    if (g.name === 'CPU') continue;
    const p = g.peakFlops;
    assert.ok(g.memoryBytes !== null && g.bandwidthBytesPerS !== null && g.tdpW !== null, g.name);
    assert.ok(p.bf16 !== null && p.fp32 !== null && p.tf32 !== null, g.name);
    // Dense tensor bf16 is 2× dense tf32 on every part here; a sparsity figure would break this.
    assert.ok(Math.abs(p.bf16 / p.tf32 - 2) < 0.03, g.name);
    assert.equal(p.fp16, p.bf16, g.name);
  }
  const h200 = findGpu('NVIDIA H200');
  const h100 = findGpu('NVIDIA H100 80GB HBM3');
  assert.ok(h200 && h100);
  assert.deepEqual(h200.peakFlops, h100.peakFlops);
  assert.equal(h200.bandwidthBytesPerS, 4.8e12);
});

test('a short name typed by a person picks the common variant', () => {
  assert.equal(findGpuByUserName('H100')?.name, 'H100 SXM');
  assert.equal(findGpuByUserName('a100')?.name, 'A100 SXM 80GB');
  assert.equal(findGpuByUserName('4090')?.name, 'RTX 4090');
  assert.equal(findGpuByUserName('TPU'), null);
});
