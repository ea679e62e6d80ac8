// The image models' estimator (src/core/estimateVision.ts) against figures published outside this code:
// parameter counts of timm's vit_base_patch16_224 / vit_large_patch16_224 and of the DiT paper's models
// (its Table 4, and what its models.py counts), and the DiT paper's forward Gflops (multiply-accumulates).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateCommand } from '../../src/cli/estimate';
import { resolveConfig, type ProfileConfig, type ProfileConfigInput } from '../../src/core/config';
import { archFromConfig, countParams, iterationFlops } from '../../src/core/estimate';
import {
  visionArchFromConfig,
  visionEstimate,
  visionForwardFlops,
  visionIterationCost,
  visionParams,
  visionTrainableParams,
  visionWeightBytes,
  type VisionArch,
} from '../../src/core/estimateVision';
import { fakeIo } from './helpers';

function config(input: ProfileConfigInput): ProfileConfig {
  const r = resolveConfig(input);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.value;
}

function arch(input: ProfileConfigInput): VisionArch {
  const a = visionArchFromConfig(config(input));
  assert.ok(a);
  return a;
}

const within = (actual: number, published: number, tol: number, what: string): void => {
  const rel = Math.abs(actual - published) / published;
  assert.ok(rel <= tol, `${what}: ${actual} is ${(rel * 100).toFixed(3)}% from ${published} (allowed ${tol * 100}%)`);
};

test('ViT and DiT parameter counts are the published ones', () => {
  // The ViT paper's Table 1 (ViT-Base 86M, ViT-Large 307M with its 21k head); timm's 1000-class models:
  // vit_base_patch16_224 86.6M, vit_large_patch16_224 304.3M.
  within(visionParams(arch({ model: { preset: 'vit-b-16' } })), 86.6e6, 0.01, 'ViT-B/16');
  within(visionParams(arch({ model: { preset: 'vit-l-16' } })), 304.3e6, 0.01, 'ViT-L/16');
  // The DiT paper, Table 4: B/2 130M, L/2 458M, XL/2 675M.
  within(visionParams(arch({ model: { preset: 'dit-b-2' } })), 130e6, 0.01, 'DiT-B/2');
  within(visionParams(arch({ model: { preset: 'dit-l-2' } })), 458e6, 0.01, 'DiT-L/2');
  within(visionParams(arch({ model: { preset: 'dit-xl-2' } })), 675e6, 0.01, 'DiT-XL/2');
  // Exact, module by module, as timm's VisionTransformer and DiT's models.py build them: patch conv
  // 3·16²·768 + 768, class token, 197×768 positions, 12 × (12h² + 13h), final norm, 1000-way head.
  assert.equal(visionParams(arch({ model: { preset: 'vit-b-16' } })), 86_567_656);
  assert.equal(visionParams(arch({ model: { preset: 'dit-xl-2' } })), 675_129_632);
});

test("DiT forward FLOPs are twice the paper's Gflops (multiply-accumulates)", () => {
  // DiT paper Table 4: B/2 23.01, L/2 80.71, XL/2 118.64 Gflops at 256×256.
  within(visionForwardFlops(arch({ model: { preset: 'dit-b-2' } })) / 2, 23.01e9, 0.01, 'DiT-B/2');
  within(visionForwardFlops(arch({ model: { preset: 'dit-l-2' } })) / 2, 80.71e9, 0.01, 'DiT-L/2');
  within(visionForwardFlops(arch({ model: { preset: 'dit-xl-2' } })) / 2, 118.64e9, 0.01, 'DiT-XL/2');
});

test('attention over an image is counted bidirectionally: all T² pairs', () => {
  const a = arch({ model: { preset: 'vit-b-16' } });
  // 197 tokens, 12 layers, 12 heads of 64: scores + weighted values, 2 FLOPs each, every pair.
  const attention = 2 * 12 * 12 * (64 + 64) * 197 * 197;
  const matmuls = 2 * 197 * 12 * (4 * 768 * 768 + 2 * 768 * 3072) + 2 * 196 * 768 * 3 * 16 * 16 + 2 * 768 * 1000;
  assert.equal(visionForwardFlops(a), matmuls + attention);
});

test('weight bytes follow the precision, and GQA/MQA shrink k and v', () => {
  const a = arch({ model: { preset: 'vit-b-16' } });
  assert.equal(visionWeightBytes(a, 'fp32'), 4 * 86_567_656);
  assert.equal(visionWeightBytes(a, 'bf16'), 2 * 86_567_656);
  assert.ok(visionWeightBytes(a, 'int8') < visionWeightBytes(a, 'bf16') * 0.6);
  const mqa = visionParams(arch({ model: { preset: 'vit-b-16' }, attention: { kind: 'mqa' } }));
  // k and v go from 12 heads to 1: 2 × 11 × 64 × (768 + 1) fewer per layer.
  assert.equal(86_567_656 - mqa, 12 * 2 * 11 * 64 * (768 + 1));
});

test('iterations: DiT inference is samplingSteps forwards, training 3× forward, PEFT trains adapters only', () => {
  const cfg = config({ model: { preset: 'dit-xl-2' }, stage: 'inference', workload: { batch: 2, samplingSteps: 50 } });
  const a = arch({ model: { preset: 'dit-xl-2' } });
  const one = visionForwardFlops(a);
  assert.equal(visionIterationCost(a, 'inference', null, 'bf16', cfg.workload).flops, 50 * 2 * one);
  assert.equal(visionIterationCost(a, 'pretrain', null, 'bf16', { batch: 2 }).flops, 3 * 2 * one);
  // Pretraining trains everything but DiT's frozen sin-cos position table (256 × 1152).
  assert.equal(visionTrainableParams(a, 'pretrain', null), 675_129_632 - 256 * 1152);
  const lora = { method: 'lora' as const, rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o'] };
  assert.equal(visionTrainableParams(a, 'finetune', lora), 28 * 4 * 8 * (1152 + 1152));
});

test('the estimate summary of an image model has no KV cache or decode, and names its tokens', () => {
  const e = visionEstimate(arch({ model: { preset: 'dit-xl-2' } }), {
    precision: 'bf16',
    batch: 1,
    seqLen: 128,
    gpu: null,
  });
  assert.equal(e.params, 675_129_632);
  assert.equal(e.kvBytesPerToken, 0);
  assert.equal(e.floors.decodePerTokenS, null);
  assert.equal(e.vision.tokensPerImage, 256);
  assert.equal(e.vision.inputSide, 32);
});

test('`estimate --preset vit-b-16 --json` and `--preset dit-xl-2` give the published counts, through estimate.ts', async () => {
  for (const [preset, published, tokens] of [
    ['vit-b-16', 86.6e6, 197],
    ['dit-xl-2', 675e6, 256],
  ] as const) {
    const io = fakeIo(process.cwd());
    assert.equal(await estimateCommand(['--preset', preset, '--json', '--gpu', 'H200'], io), 0, io.stderr);
    const out = JSON.parse(io.stdout) as {
      params: number;
      kvBytesPerToken: number;
      seqLen: number;
      vision: { tokensPerImage: number };
      floors: { prefillS: number | null };
    };
    within(out.params, published, 0.01, preset);
    assert.equal(out.kvBytesPerToken, 0);
    assert.equal(out.vision.tokensPerImage, tokens);
    assert.equal(out.seqLen, tokens);
    assert.ok(out.floors.prefillS !== null && out.floors.prefillS > 0);
  }
  // The generic entry points route an image config to estimateVision.ts.
  const cfg = config({ model: { preset: 'vit-b-16' }, stage: 'pretrain', workload: { batch: 4 } });
  const a = archFromConfig(cfg);
  assert.ok(a);
  assert.equal(countParams(a), 86_567_656);
  assert.equal(iterationFlops(cfg), 3 * 4 * visionForwardFlops(arch({ model: { preset: 'vit-b-16' } })));
});
