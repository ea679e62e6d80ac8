// Data-parallel runs (issue 15) in core: the parallel field, the nproc sweep axis, the protocol's
// perRank and worldSize, what assemble makes of them, and scaling efficiency from the sweep's runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assembleRecord, newRunState, applyEvent, type Analytic } from '../../src/core/assemble';
import { resolveConfig, type ProfileConfig } from '../../src/core/config';
import { parseEventLine, type ResultCounters } from '../../src/core/protocol';
import { withScalingEfficiency } from '../../src/core/scaling';
import { expandSweep } from '../../src/core/sweep';
import { makeRunRecord } from './helpers';

const resolved = (input: Parameters<typeof resolveConfig>[0]): ProfileConfig => {
  const r = resolveConfig(input);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.value;
};

test('parallel is absent for one DDP process, named "N procs" otherwise, and checked naming the field', () => {
  assert.equal(resolved({ model: { preset: 'tiny' }, parallel: { nproc: 1 } }).parallel, undefined);
  const two = resolved({ model: { preset: 'tiny' }, stage: 'pretrain', parallel: { nproc: 2 } });
  assert.deepEqual(two.parallel, { nproc: 2, nodes: 1, strategy: 'ddp' });
  assert.equal(two.label, 'tiny gqa-2 fp32 pretrain 2 procs');
  const bad = resolveConfig({ model: { preset: 'tiny' }, parallel: { nproc: 0, strategy: 'zero' } });
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.errors.map((e) => e.field),
    ['parallel.nproc', 'parallel.strategy'],
  );
  const typo = resolveConfig({ parallel: { nprocs: 2 } } as never);
  assert.ok(!typo.ok && /did you mean parallel\.nproc/.test(typo.errors[0]!.message));
  const fsdpInference = resolveConfig({
    model: { preset: 'tiny' },
    stage: 'inference',
    parallel: { nproc: 2, strategy: 'fsdp' },
  });
  assert.ok(!fsdpInference.ok && fsdpInference.errors[0]!.field === 'parallel.strategy');
});

test('--nproc 1,2 expands to the plain config and its 2-process twin', () => {
  const r = expandSweep({ model: { preset: 'tiny' }, stage: 'pretrain' }, { nproc: [1, 2] });
  assert.ok(r.ok);
  assert.deepEqual(
    r.configs.map((c) => c.parallel?.nproc ?? 1),
    [1, 2],
  );
  const { label: _a, parallel: _b, ...rest2 } = r.configs[1]!;
  const { label: _c, ...rest1 } = r.configs[0]!;
  assert.deepEqual(rest2, rest1, 'the same run but for parallel');
});

const counters = (extra: Partial<ResultCounters> = {}): ResultCounters => ({
  params: 10,
  activeParams: 10,
  trainableParams: 10,
  weightBytes: 40,
  referenceWeightBytes: 20,
  kvCacheBytes: null,
  optimizerStateBytes: 80,
  peakMemoryBytes: 1000,
  iterations: 2,
  iterationS: [0.5, 0.5],
  tokensPerIteration: 256,
  generatedTokensPerIteration: 0,
  ttftS: null,
  tpotS: null,
  windowStartT: 0,
  windowEndT: 1,
  energyJ: null,
  quality: null,
  loss: 6.9,
  ...extra,
});

const hello = {
  type: 'hello',
  protocol: 1,
  python: '3.11',
  torch: '1.13',
  cuda: null,
  device: { name: 'cpu', memoryBytes: 1e9 },
  nvml: false,
  powerScope: null,
  memorySource: 'rss-delta',
  peakMemorySource: 'rss-delta',
};

test('the protocol accepts worldSize and perRank and names what is wrong with them', () => {
  assert.ok(parseEventLine(JSON.stringify({ ...hello, worldSize: 2, nodes: 1 }), 1).ok);
  const zero = parseEventLine(JSON.stringify({ ...hello, worldSize: 0 }), 1);
  assert.ok(!zero.ok && /hello\.worldSize/.test(zero.problem.reason));
  const rank = { rank: 0, tokensPerS: 100, peakMemoryBytes: null, stepS: 0.5, energyJ: null };
  assert.ok(parseEventLine(JSON.stringify({ type: 'result', counters: counters({ perRank: [rank] }) }), 1).ok);
  const broken = parseEventLine(
    JSON.stringify({ type: 'result', counters: counters({ perRank: [{ ...rank, stepS: 'x' }] as never }) }),
    1,
  );
  assert.ok(!broken.ok && /perRank\[0\]/.test(broken.problem.reason));
});

test('assemble: env.worldSize and perRank from the events, samples/s over every rank, MFU denominator stated', () => {
  const config = resolved({
    model: { preset: 'tiny' },
    stage: 'pretrain',
    workload: { batch: 1, seqLen: 128 },
    parallel: { nproc: 2 },
  });
  const state = newRunState();
  const perRank = [0, 1].map((r) => ({
    rank: r,
    tokensPerS: 256,
    peakMemoryBytes: 900 + r,
    stepS: 0.5,
    energyJ: null,
  }));
  for (const e of [
    { ...hello, worldSize: 2, nodes: 1 },
    { type: 'result', counters: counters({ perRank }) },
  ]) {
    const p = parseEventLine(JSON.stringify(e), 1);
    assert.ok(p.ok);
    applyEvent(state, p.event);
  }
  const analytic = (): Analytic => ({ iterationFlops: 1e9, peakFlopsPerS: 1e10, floorS: null, peakSource: 'test' });
  const rec = assembleRecord({
    id: 'r',
    createdAt: '2025-01-01T00:00:00Z',
    target: { kind: 'local', name: 'local' },
    config,
    state,
    ending: null,
    stderrTail: '',
    analytic,
  });
  assert.equal(rec.env.worldSize, 2);
  assert.equal(rec.env.nodes, 1);
  assert.deepEqual(rec.perRank, perRank);
  assert.equal(rec.metrics.tokensPerS, 512); // 256 tokens of both ranks per 0.5 s step
  assert.equal(rec.metrics.samplesPerS, 4); // a batch of 1 on each of 2 ranks per 0.5 s
  assert.equal(rec.metrics.mfu, 0.2); // one rank's 1e9 FLOPs per 0.5 s ÷ 1e10
  assert.match(rec.measurement?.peak ?? '', /world size 2 × this peak/);
});

test('scaling efficiency divides by N × the 1-process sibling of the same config and target only', () => {
  const one = makeRunRecord('one', { stage: 'pretrain' }, { tokensPerS: 100 });
  const two = makeRunRecord('two', { stage: 'pretrain', parallel: { nproc: 2 } }, { tokensPerS: 150 });
  two.env.worldSize = 2;
  const otherBatch = makeRunRecord(
    'b2',
    { stage: 'pretrain', workload: { batch: 2 }, parallel: { nproc: 2 } },
    { tokensPerS: 300 },
  );
  const elsewhere = makeRunRecord(
    'ssh',
    { stage: 'pretrain', parallel: { nproc: 2 } },
    { tokensPerS: 150 },
    { target: { kind: 'ssh', name: 'box' } },
  );
  const out = withScalingEfficiency([one, two, otherBatch, elsewhere]);
  assert.equal(out[1]!.metrics.scalingEfficiency, 0.75);
  assert.equal(out[0]!.metrics.scalingEfficiency, null, 'one process: no efficiency');
  assert.equal(out[2]!.metrics.scalingEfficiency, null, 'no 1-process run of batch 2');
  assert.equal(out[3]!.metrics.scalingEfficiency, null, 'the baseline ran on another target');
  assert.equal(two.metrics.scalingEfficiency, null, 'the input is not changed');
  assert.equal(out[0], one, 'unchanged records are the same objects (not stored again)');
  const failed = withScalingEfficiency([{ ...one, status: 'failed' }, two]);
  assert.equal(failed[1]!.metrics.scalingEfficiency, null, 'a failed baseline measured nothing');
});
