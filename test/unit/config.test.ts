import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRESETS, resolveConfig } from '../../src/core/config';
import { expandSweep } from '../../src/core/sweep';

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
