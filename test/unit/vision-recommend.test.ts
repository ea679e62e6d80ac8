// Image runs are never compared with text runs or with another workload in one group (recommend.ts
// groupKeyOf): a custom ViT with a text decoder's trunk shape, and DiT inference at other sampling steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupRuns } from '../../src/core/recommend';
import { makeRunRecord } from './helpers';

const SHAPE = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, ffn: 256, vocab: 10 };

test('a custom image model and a text decoder of the same trunk shape are different groups', () => {
  const text = makeRunRecord('20250101-120000-aaaa', { model: { shape: SHAPE } });
  const image = makeRunRecord('20250101-120000-bbbb', {
    model: { shape: SHAPE, vision: { family: 'vit', imageSize: 32, patch: 8, channels: 3 } },
    stage: 'pretrain',
  });
  // Same stage, batch and seqLen (the ViT's 17 tokens), no new tokens: only the family differs.
  const text17 = makeRunRecord('20250101-120000-cccc', {
    model: { shape: SHAPE },
    stage: 'pretrain',
    workload: { seqLen: 17 },
  });
  assert.equal(image.config.workload.seqLen, 17);
  const groups = groupRuns([text, image, text17]);
  assert.equal(groups.length, 3);
  assert.match(groups[1].key.model, /^custom vit /);
});

test('DiT inference at different sampling steps is not one group', () => {
  const a = makeRunRecord('20250101-120000-dddd', { model: { preset: 'dit-tiny' }, workload: { samplingSteps: 4 } });
  const b = makeRunRecord('20250101-120000-eeee', { model: { preset: 'dit-tiny' }, workload: { samplingSteps: 10 } });
  const c = makeRunRecord('20250101-120000-ffff', {
    model: { preset: 'dit-tiny' },
    attention: { kind: 'mqa' },
    workload: { samplingSteps: 10 },
  });
  const groups = groupRuns([a, b, c]);
  assert.deepEqual(
    groups.map((g) => g.runs.map((r) => r.id)),
    [['20250101-120000-dddd'], ['20250101-120000-eeee', '20250101-120000-ffff']],
  );
});
