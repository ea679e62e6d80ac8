import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  editDistance,
  PRESETS,
  resolveConfig,
  SHAPE_LIMITS,
  unknownConfigFields,
  type ProfileConfigInput,
} from '../../src/core/config';
import { defaultSweepProblems, expandSweep, parsePlan } from '../../src/core/sweep';

test('a preset resolves to its full shape with MHA/MQA/GQA KV heads', () => {
  for (const [kind, kv] of [
    ['mha', 8],
    ['mqa', 1],
    ['gqa', 2],
  ] as const) {
    const r = resolveConfig({ model: { preset: 'tiny' }, attention: { kind } });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.attention.kvHeads, kv);
    assert.ok(r.value.model.source === 'synthetic');
    assert.deepEqual(r.value.model.shape, { ...PRESETS.tiny, kvHeads: kv });
  }
});

test('an unknown attention kind names the field and the allowed values', () => {
  const r = resolveConfig({ model: { preset: 'tiny' }, attention: { kind: 'xyz' } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors[0].field, 'attention.kind');
  assert.match(r.errors[0].message, /"mha", "mqa", "gqa", "mla", "nsa"/);
});

test('kvHeads that do not divide the heads are refused with the divisors', () => {
  const r = resolveConfig({ model: { preset: 'tiny' }, attention: { kind: 'gqa', kvHeads: 3 } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors[0].field, 'attention.kvHeads');
  assert.match(r.errors[0].message, /1, 2, 4, 8/);
});

test('every bad field is reported at once, not only the first', () => {
  const r = resolveConfig({ stage: 'train', precision: 'fp64', model: { preset: 'nope' }, workload: { batch: 0 } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors.map((e) => e.field).sort(), ['model.preset', 'precision', 'stage', 'workload.batch']);
});

test('PEFT outside finetune is an error; finetune defaults to full', () => {
  const bad = resolveConfig({ model: { preset: 'tiny' }, stage: 'inference', peft: { method: 'lora' } });
  assert.equal(bad.ok, false);
  const ft = resolveConfig({ model: { preset: 'tiny' }, stage: 'finetune' });
  assert.ok(ft.ok);
  assert.equal(ft.value.peft?.method, 'full');
});

test('a sweep is the product of its axes; kvHeads only multiplies gqa', () => {
  const r = expandSweep(
    { model: { preset: 'tiny' } },
    { attention: ['mha', 'gqa', 'mqa'], kvHeads: [2, 4], precision: ['fp32', 'bf16'] },
  );
  assert.ok(r.ok);
  // mha ×2 precisions, gqa ×2 kv ×2 precisions, mqa ×2 precisions
  assert.equal(r.configs.length, 2 + 4 + 2);
  const labels = r.configs.map((c) => c.label);
  assert.equal(new Set(labels).size, labels.length, 'labels are distinct');
  assert.ok(labels.includes('tiny gqa-4 bf16 inference'));
});

test('a sweep with one bad config fails as a whole, naming it', () => {
  const r = expandSweep({ model: { preset: 'tiny' } }, { attention: ['mha', 'gqa'], kvHeads: [3] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].errors[0].field, 'attention.kvHeads');
});

test('MoE and PEFT axes multiply the sweep; PEFT only where the stage is finetune', () => {
  const r = expandSweep(
    { model: { preset: 'tiny' } },
    { stage: ['pretrain', 'finetune'], moe: [null, { experts: 4, topK: 2, shared: 0 }], peft: ['full', 'lora'] },
  );
  assert.ok(r.ok, JSON.stringify(r));
  // pretrain: 2 MoE layouts (PEFT ignored, deduplicated); finetune: 2 layouts × 2 methods
  assert.equal(r.configs.length, 2 + 4);
  assert.deepEqual(
    r.configs.filter((c) => c.stage === 'pretrain').map((c) => c.peft),
    [null, null],
  );
  assert.ok(r.configs.some((c) => c.label === 'tiny gqa-2 moe4x2 lora fp32 finetune'));
});

test('an MoE preset brings its experts on the dense shape', () => {
  const r = resolveConfig({ model: { preset: '0.5bx8' } });
  assert.ok(r.ok);
  assert.deepEqual(r.value.moe, { experts: 8, topK: 2, shared: 0 });
  assert.ok(r.value.model.source === 'synthetic' && r.value.model.shape.hidden === 896);
  const dense = resolveConfig({ model: { preset: '0.5bx8' }, moe: null });
  assert.ok(dense.ok && dense.value.moe === null);
});

test('a preset whose shape was changed is not labelled as the preset', () => {
  const r = resolveConfig({ model: { preset: 'tiny', shape: { hidden: 1024 } }, attention: { kind: 'mqa' } });
  assert.ok(r.ok);
  assert.equal(r.value.label, 'custom (from tiny) mqa fp32 inference');
});

// ---- strict fields: a typo or a misplaced field is refused, never silently a default ----

test('a misspelt field is refused with its path and the nearest known field', () => {
  const r = resolveConfig({ model: { preset: 'tiny' }, attention: { kvheads: 4 } } as ProfileConfigInput);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors, [
    { field: 'attention.kvheads', message: 'unknown field; did you mean attention.kvHeads?' },
  ]);
});

test('a field in the wrong place says where it belongs', () => {
  const cases: [unknown, string, string][] = [
    [{ model: { preset: 'tiny' }, seqLen: 512 }, 'seqLen', 'belongs under workload'],
    [{ model: { preset: 'tiny', layers: 4 } }, 'model.layers', 'belongs under model.shape'],
    [{ model: { preset: 'tiny' }, workload: { precision: 'bf16' } }, 'workload.precision', 'belongs at the top level'],
    [{ model: { preset: 'tiny' }, mla: { kvRank: 8 } }, 'mla', 'belongs under attention'],
  ];
  for (const [input, field, message] of cases) {
    const r = resolveConfig(input as ProfileConfigInput);
    assert.ok(!r.ok, JSON.stringify(input));
    assert.deepEqual(r.errors, [{ field, message }]);
  }
});

test('suggestions come from a small edit distance: case, one slip, two swapped letters; none for a stranger', () => {
  assert.equal(editDistance('kvheads', 'kvHeads'), 0);
  assert.equal(editDistance('bacth', 'batch'), 1);
  assert.equal(editDistance('seqLenn', 'seqLen'), 1);
  assert.equal(editDistance('precison', 'precision'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  const slip = resolveConfig({ model: { preset: 'tiny' }, workload: { bacth: 2 } } as ProfileConfigInput);
  assert.ok(!slip.ok);
  assert.equal(slip.errors[0].message, 'unknown field; did you mean workload.batch?');
  const elsewhere = resolveConfig({ model: { preset: 'tiny' }, seqlen: 2 } as ProfileConfigInput);
  assert.ok(!elsewhere.ok);
  assert.equal(elsewhere.errors[0].message, 'unknown field; did you mean workload.seqLen?');
  const stranger = resolveConfig({ model: { preset: 'tiny' }, workload: { zzz: 2 } } as ProfileConfigInput);
  assert.ok(!stranger.ok);
  assert.equal(
    stranger.errors[0].message,
    'unknown field; workload knows batch, seqLen, newTokens, steps, warmup, samplingSteps',
  );
});

test('an object given as something else is named; moe and peft may be null', () => {
  const r = resolveConfig({ model: { preset: 'tiny' }, workload: 5 } as unknown as ProfileConfigInput);
  assert.ok(!r.ok);
  assert.equal(r.errors[0].field, 'workload');
  assert.match(r.errors[0].message, /use an object with batch, seqLen/);
  assert.ok(resolveConfig({ model: { preset: 'tiny' }, moe: null, peft: null }).ok);
});

test('every field the resolved config holds is a known input field (the tree misses none)', () => {
  const r = resolveConfig({
    model: { preset: 'tiny' },
    attention: { kind: 'mla' },
    stage: 'finetune',
    trainTokens: 1000,
  });
  assert.ok(r.ok);
  const { model, ...rest } = r.value;
  assert.ok(model.source === 'synthetic');
  const asInput = { ...rest, model: { source: model.source, preset: model.preset ?? 'tiny', shape: model.shape } };
  assert.deepEqual(unknownConfigFields(asInput), []);
});

test('absurd sizes are refused naming the field; the largest published shapes pass', () => {
  const r = resolveConfig({
    model: { preset: 'tiny', shape: { layers: 1_000_000, hidden: 1e7 } },
    workload: { seqLen: 2e8, batch: 1e6 },
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.errors.map((e) => e.field).sort(), [
    'model.shape.hidden',
    'model.shape.layers',
    'workload.batch',
    'workload.seqLen',
  ]);
  const layers = r.errors.find((e) => e.field === 'model.shape.layers');
  assert.match(layers?.message ?? '', /^1000000 is beyond any published model \(at most 1,000, /);
  // Llama 3.1 405B (126 layers, hidden 16384, 128 heads, FFN 53248, vocab 128256) at a 10M-token context.
  const llama = resolveConfig({
    model: {
      preset: 'tiny',
      shape: { layers: 126, hidden: 16384, heads: 128, kvHeads: 8, headDim: 128, ffn: 53248, vocab: 128256 },
    },
    attention: { kind: 'gqa', kvHeads: 8 },
    workload: { seqLen: 10_000_000, batch: 2048 },
  });
  assert.ok(llama.ok, JSON.stringify(llama));
  for (const [k, v] of Object.entries(SHAPE_LIMITS))
    assert.ok(v >= 5 * PUBLISHED_MAX[k as keyof typeof PUBLISHED_MAX], k);
});

/** The largest of each published (cited in config.ts); every bound must leave room above it. */
const PUBLISHED_MAX = { layers: 126, hidden: 20480, heads: 128, kvHeads: 128, headDim: 256, ffn: 81920, vocab: 262144 };

test('plans: {base, axes}, lists and single configs, checked with the entry and path named', () => {
  const ok = parsePlan([
    { model: { preset: 'tiny' } },
    { base: { model: { preset: 'tiny' } }, axes: { seqLen: [64] } },
  ]);
  assert.ok(ok.ok);
  assert.equal(ok.sweeps.length, 2);
  assert.deepEqual(ok.sweeps[1].axes, { seqLen: [64] });
  const bad = parsePlan({
    base: { model: { preset: 'tiny' }, attention: { kvheads: 2 } },
    axes: { attentoin: ['mha'], batch: 4, moe: [{ experts: 4, topk: 2 }] },
    stage: 'pretrain',
  });
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.errors.map((e) => `${e.field}: ${e.message}`),
    [
      'base.attention.kvheads: unknown field; did you mean base.attention.kvHeads?',
      'axes.attentoin: unknown field; did you mean axes.attention?',
      'stage: belongs under base or axes',
      'axes.batch: 4 is not allowed; use a list of whole numbers, e.g. [1, 8]',
      'axes.moe[0].topk: unknown field; did you mean axes.moe[0].topK?',
    ],
  );
  assert.ok(!parsePlan([]).ok);
  assert.ok(!parsePlan(['x']).ok);
});

test('expandSweep refuses an unknown field of its base once, not once per config', () => {
  const r = expandSweep({ model: { preset: 'tiny' }, workload: { seqlen: 8 } } as ProfileConfigInput, {
    attention: ['mha', 'gqa', 'mqa'],
  });
  assert.ok(!r.ok);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].index, -1);
  assert.deepEqual(r.problems[0].errors, [
    { field: 'workload.seqlen', message: 'unknown field; did you mean workload.seqLen?' },
  ]);
});

test('the efficientllm.defaultSweep setting: unknown fields and values the launcher would drop are named', () => {
  assert.deepEqual(defaultSweepProblems({ preset: 'tiny', attention: ['mha', 'gqa'], precision: ['fp32'] }), []);
  assert.deepEqual(defaultSweepProblems(undefined), []);
  const problems = defaultSweepProblems({ preset: 'tiny', seqlen: 64, attention: ['mha', 'gqq'], workload: {} });
  assert.deepEqual(
    problems.map((e) => `${e.field}: ${e.message}`),
    [
      'efficientllm.defaultSweep.seqlen: unknown field; did you mean efficientllm.defaultSweep.seqLen?',
      'efficientllm.defaultSweep.workload: unknown field; efficientllm.defaultSweep knows preset, attention, stage, precision, batch, seqLen, newTokens, steps, warmup',
      'efficientllm.defaultSweep.attention: ["mha","gqq"] is not allowed; use a list of mha, mqa, gqa, mla, nsa',
    ],
  );
});
