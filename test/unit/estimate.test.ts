import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { estimateCommand } from '../../src/cli/estimate';
import { UsageError } from '../../src/cli/io';
import { resolveConfig, type ProfileConfig, type ProfileConfigInput } from '../../src/core/config';
import {
  activeMatmulParams,
  archFromConfig,
  countActiveParams,
  countParams,
  decodeStepFlops,
  estimateModel,
  flopsPerToken,
  forwardFlops,
  analyseIteration,
  iterationFloorS,
  iterationFlops,
  kvBytesPerToken,
  prefillFlops,
  trainStepFlops,
  trainableParams,
  weightBytes,
  type ModelArch,
} from '../../src/core/estimate';
import { analyticFor } from '../../src/core/analytic';
import { findGpu } from '../../src/core/gpus';
import { parseHfConfig } from '../../src/core/hfConfig';
import { fakeIo } from './helpers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'hf-configs');

function hf(name: string): ModelArch {
  const r = parseHfConfig(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value.arch;
}

function cfg(input: ProfileConfigInput): ProfileConfig {
  const r = resolveConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function arch(input: ProfileConfigInput): ModelArch {
  const a = archFromConfig(cfg(input));
  assert.ok(a);
  return a;
}

function within(actual: number, published: number, tol: number, what: string): void {
  const rel = Math.abs(actual - published) / published;
  assert.ok(rel <= tol, `${what}: ${actual} is ${(rel * 100).toFixed(2)}% from ${published} (allowed ${tol * 100}%)`);
}

test('parameter counts match the published figures within 0.5%', () => {
  assert.equal(countParams(hf('gpt2')), 124_439_808); // exact: HF GPT2LMHeadModel numel
  const published: [string, number][] = [
    ['llama-2-7b', 6.74e9],
    ['llama-3-8b', 8.03e9],
    ['mistral-7b', 7.24e9],
    ['mixtral-8x7b', 46.7e9],
    ['qwen2.5-1.5b', 1.54e9],
    ['qwen2.5-3b', 3.09e9],
    ['deepseek-v2-lite', 15.7e9],
    ['deepseek-v2', 236e9],
    ['deepseek-v3', 671e9],
  ];
  for (const [name, n] of published) within(countParams(hf(name)), n, 0.005, name);
  // Qwen2.5-0.5B: the model card's "0.49B" is 494M rounded (0.82% away, so 0.5% of the rounded
  // figure cannot hold); check the rounding and the card's 0.36B non-embedding count instead.
  const q = hf('qwen2.5-0.5b');
  assert.equal(countParams(q), 494_032_768);
  assert.equal(Math.round(countParams(q) / 1e7) / 100, 0.49);
  assert.equal(Math.round((countParams(q) - q.shape.vocab * q.shape.hidden) / 1e7) / 100, 0.36);
});

test('active parameters of MoE models', () => {
  within(countActiveParams(hf('mixtral-8x7b')), 12.9e9, 0.005, 'mixtral active');
  // Dense models: every parameter is active.
  assert.equal(countActiveParams(hf('llama-3-8b')), countParams(hf('llama-3-8b')));
  // DeepSeek counts "activated" without the embedding table: V2-Lite gives 2.45B, which DeepSeek
  // prints as 2.4B (truncated); no count that also gives Mixtral's 12.9B lands within 0.5% of 2.4B.
  const lite = activeMatmulParams(hf('deepseek-v2-lite'));
  assert.equal(Math.floor(lite / 1e8) / 10, 2.4);
  within(lite, 2.4e9, 0.025, 'deepseek-v2-lite activated');
  within(activeMatmulParams(hf('deepseek-v3')), 37e9, 0.015, 'deepseek-v3 activated');
  within(activeMatmulParams(hf('deepseek-v2')), 21e9, 0.01, 'deepseek-v2 activated');
});

test('tied embeddings are counted once', () => {
  const tied = hf('qwen2.5-0.5b');
  const untied: ModelArch = { ...tied, tiedEmbeddings: false };
  assert.equal(countParams(untied) - countParams(tied), tied.shape.vocab * tied.shape.hidden);
  // lm_head is still a matmul when tied.
  assert.equal(activeMatmulParams(untied), activeMatmulParams(tied));
});

test('KV bytes per token', () => {
  assert.equal(kvBytesPerToken(hf('llama-3-8b'), 'bf16'), 131_072);
  assert.equal(kvBytesPerToken(hf('deepseek-v2'), 'bf16'), 69_120);
  assert.equal(69_120, (512 + 64) * 60 * 2);
  // Weight-only schemes keep a bf16 cache; fp32 doubles it.
  assert.equal(kvBytesPerToken(hf('llama-3-8b'), 'int4'), 131_072);
  assert.equal(kvBytesPerToken(hf('llama-3-8b'), 'fp8'), 131_072);
  assert.equal(kvBytesPerToken(hf('llama-3-8b'), 'fp32'), 262_144);
});

test('ProfileConfig attention variants order the KV cache MHA > GQA > MQA, MLA by its latent', () => {
  const base = { model: { preset: '0.5b' }, precision: 'bf16' };
  const mha = kvBytesPerToken(arch({ ...base, attention: { kind: 'mha' } }), 'bf16');
  const gqa = kvBytesPerToken(arch({ ...base, attention: { kind: 'gqa', kvHeads: 2 } }), 'bf16');
  const mqa = kvBytesPerToken(arch({ ...base, attention: { kind: 'mqa' } }), 'bf16');
  const nsa = kvBytesPerToken(arch({ ...base, attention: { kind: 'nsa', kvHeads: 2 } }), 'bf16');
  const mla = kvBytesPerToken(arch({ ...base, attention: { kind: 'mla', mla: { kvRank: 128, ropeDim: 32 } } }), 'bf16');
  assert.equal(mha, 2 * 24 * 14 * 64 * 2);
  assert.equal(gqa, 2 * 24 * 2 * 64 * 2);
  assert.equal(mqa, 2 * 24 * 1 * 64 * 2);
  assert.equal(nsa, gqa);
  assert.equal(mla, (128 + 32) * 24 * 2);
  assert.ok(mha > gqa && gqa > mqa);
});

test('weight bytes by precision', () => {
  const a = arch({ model: { preset: '0.5b' } });
  const bf16 = weightBytes(a, 'bf16');
  assert.equal(weightBytes(a, 'fp32'), 2 * bf16);
  assert.equal(weightBytes(a, 'fp16'), bf16);
  assert.ok(weightBytes(a, 'int8') < bf16 && weightBytes(a, 'fp8') < weightBytes(a, 'int8'));
  // One layer, vocab 2: the harness's quant.py storage rule, matrix by matrix (embedding and lm_head
  // included; only the norms stay bf16).
  const one: ModelArch = {
    ...a,
    shape: { layers: 1, hidden: 256, heads: 2, kvHeads: 2, headDim: 128, ffn: 256, vocab: 2 },
  };
  const matrices = 7 + 2; // q k v o gate up down, embedding, lm_head
  const weights = 7 * 256 * 256 + 2 * 2 * 256;
  const rows = 7 * 256 + 2 * 2;
  const norms = 3 * 256; // 2 per layer + final
  // int4: ⌈in/2⌉ bytes per row (two codes a byte) + per row and 128-input group a bf16 scale and zero.
  assert.equal(weightBytes(one, 'int4'), weights / 2 + rows * 2 * (2 + 2) + norms * 2);
  // int8: a byte per weight + a bf16 scale per row; fp8: a byte per weight + an fp32 scale per matrix.
  assert.equal(weightBytes(one, 'int8'), weights + rows * 2 + norms * 2);
  assert.equal(weightBytes(one, 'fp8'), weights + matrices * 4 + norms * 2);
  // in = 688 (the tiny preset's down projection): 5 full groups and one of 48, so 6 scale/zero pairs.
  const tiny = arch({ model: { preset: 'tiny' } });
  const down = 256 * 344 + 256 * 6 * 4;
  const tinyNoFfn: ModelArch = { ...tiny, shape: { ...tiny.shape, ffn: 0 } };
  assert.equal(weightBytes(tiny, 'int4') - weightBytes(tinyNoFfn, 'int4'), 2 * (2 * (688 * 128 + 688 * 2 * 4) + down));
});

test('whole-model compression: tiny ≥ 1.9× (int8) and ≥ 3.5× (int4); 0.5b int4 under bf16 / 3.5', () => {
  // Embedding and lm_head are quantized too, so the untied 152k-vocab tables of the 0.5b preset
  // (272M of its 630M parameters) shrink with the rest.
  const tiny = arch({ model: { preset: 'tiny' } });
  const tb = weightBytes(tiny, 'bf16');
  assert.ok(weightBytes(tiny, 'int8') <= tb / 1.9, `${weightBytes(tiny, 'int8')} vs ${tb}`);
  assert.ok(weightBytes(tiny, 'int4') <= tb / 3.5, `${weightBytes(tiny, 'int4')} vs ${tb}`);
  const a = arch({ model: { preset: '0.5b' } });
  const b = weightBytes(a, 'bf16');
  const i4 = weightBytes(a, 'int4');
  assert.ok(i4 < b / 3.5, `${i4} vs ${b / 3.5}`);
});

// Counts below are written from the shapes in the test, not through the estimator's helpers; the
// executed ground truth is test/python/test_flops.py (every matmul the harness runs, within 1%).
const TINY = { layers: 2, hidden: 256, heads: 8, kvHeads: 2, headDim: 32, ffn: 688, vocab: 1024 };
/** Matmul weights of one tiny GQA-2 layer: q, k, v, o and the SwiGLU MLP. */
const TINY_LAYER = 256 * 256 + 2 * 256 * 64 + 256 * 256 + 3 * 256 * 688;
const TINY_HEAD = 1024 * 256;
/** Scores + values of one tiny layer per (query, key) pair: 2 FLOPs × heads × (q·k width + v width). */
const TINY_PAIR = 2 * 8 * (32 + 32);

test('FLOPs: the forward of a sequence counts the unmasked L(L+1)/2 pairs, a decode step its whole context', () => {
  const a = hf('llama-3-8b');
  const ctx = 4096;
  const s = a.shape;
  const pair = 2 * s.heads * (s.headDim + s.headDim) * s.layers;
  assert.equal(flopsPerToken(a, ctx), 2 * activeMatmulParams(a) + (pair * (ctx * (ctx + 1))) / 2 / ctx);
  assert.equal(decodeStepFlops(a, 1, ctx), 2 * activeMatmulParams(a) + pair * ctx);
  // MoE: only active experts count.
  const mix = hf('mixtral-8x7b');
  assert.ok(flopsPerToken(mix, 1) < 2 * 13e9 && flopsPerToken(mix, 1) > 2 * 12.5e9);
});

test('defect 1: the prefill computes logits at the last prompt position only', () => {
  const t = arch({ model: { preset: 'tiny' } });
  const [B, L] = [2, 64];
  const attention = TINY.layers * TINY_PAIR * B * ((L * (L + 1)) / 2);
  assert.equal(prefillFlops(t, B, L), 2 * TINY.layers * TINY_LAYER * B * L + 2 * TINY_HEAD * B + attention);
  // The old count (lm_head at every position) was B·(T−1)·2·vocab·hidden more: the training forward's.
  assert.equal(forwardFlops(t, B, L) - prefillFlops(t, B, L), B * (L - 1) * 2 * TINY.vocab * TINY.hidden);
  const q05 = hf('qwen2.5-0.5b');
  assert.ok(forwardFlops(q05, 1, 128) / prefillFlops(q05, 1, 128) > 1.25, 'the 0.5b preset was inflated ~28%');
});

test('defect 4: MLA decodes in the latent space (scores and values over kvRank)', () => {
  const m = arch({ model: { preset: 'tiny' }, attention: { kind: 'mla' } });
  const d = m.mla;
  assert.ok(d);
  const c = 100;
  const latent = 2 * TINY.heads * (d.kvRank + d.ropeDim) + 2 * TINY.heads * d.kvRank;
  assert.equal(decodeStepFlops(m, 1, c), 2 * activeMatmulParams(m) + TINY.layers * latent * c);
  // Prefill and training decompress K and V: q·k over headDim + ropeDim, values over headDim.
  const naive = 2 * TINY.heads * (TINY.headDim + d.ropeDim) + 2 * TINY.heads * TINY.headDim;
  assert.equal(forwardFlops(m, 1, c), 2 * activeMatmulParams(m) * c + (TINY.layers * naive * (c * (c + 1))) / 2);
  // Hugging Face's DeepSeek code decodes decompressed.
  const v2 = hf('deepseek-v2-lite');
  const mla = v2.mla;
  assert.ok(mla);
  assert.equal(
    decodeStepFlops(v2, 1, c),
    2 * activeMatmulParams(v2) +
      v2.shape.layers * 2 * v2.shape.heads * (mla.qkNopeDim + mla.ropeDim + mla.vHeadDim) * c,
  );
});

test('defect 5: a training step is forward + input-gradients where a gradient flows + weight-gradients where weights train', () => {
  const t = arch({ model: { preset: 'tiny' } });
  const [B, L] = [2, 64];
  const N = B * L;
  const fwd = forwardFlops(t, B, L);
  const attnLayer = TINY_PAIR * B * ((L * (L + 1)) / 2);
  const linLayer = 2 * TINY_LAYER * N;
  assert.equal(trainStepFlops(t, 'pretrain', null, B, L), 3 * fwd);
  // freeze rank 1 of 2 layers: layer 1 gets input and weight gradients (its norms train), attention
  // both gradient products; lm_head (frozen) its input gradient only; layer 0 and the embedding nothing.
  const freeze = { method: 'freeze' as const, rank: 1, alpha: 0, targets: [] };
  assert.equal(trainStepFlops(t, 'finetune', freeze, B, L), fwd + 2 * linLayer + 2 * attnLayer + 2 * TINY_HEAD * N);
  // LoRA r=8 on q only: layer 0's frozen linears before q get nothing; from q's output on gradients
  // flow to inputs (frozen weights: one product), adapters train (A: weight; B: input + weight).
  const r = 8;
  const lora = { method: 'lora' as const, rank: r, alpha: 16, targets: ['q'] };
  const fa = 2 * N * 256 * r; // A: 256 → r
  const fb = 2 * N * r * 256; // B: r → 256
  const qkv = 2 * N * (256 * 256 + 2 * 256 * 64);
  const rest = 2 * N * (256 * 256 + 3 * 256 * 688); // o and the MLP of a layer
  // Layer 0: A's weight gradient, B's input and weight gradients; attention dQ (scores) and dP
  // (values) only, K and V need none; o and the MLP their input gradients.
  const layer0 = fa + 2 * fb + attnLayer + rest;
  // Layer 1: the residual needs a gradient now, so q, k, v get input gradients, A its input gradient
  // too, attention all four products.
  const layer1 = qkv + 2 * fa + 2 * fb + 2 * attnLayer + rest;
  assert.equal(trainStepFlops(t, 'finetune', lora, B, L), fwd + 2 * (fa + fb) + layer0 + layer1 + 2 * TINY_HEAD * N);
  assert.ok(trainStepFlops(t, 'finetune', lora, B, L) < 0.8 * 3 * fwd, 'the old 3× forward overstated LoRA');
});

test('iterationFlops for inference and training', () => {
  const inf = cfg({
    model: { preset: 'tiny' },
    stage: 'inference',
    precision: 'bf16',
    workload: { batch: 2, seqLen: 64, newTokens: 4 },
  });
  const a = archFromConfig(inf);
  assert.ok(a);
  const want =
    prefillFlops(a, 2, 64) + decodeStepFlops(a, 2, 65) + decodeStepFlops(a, 2, 66) + decodeStepFlops(a, 2, 67);
  assert.equal(iterationFlops(inf), want);
  const train = cfg({
    model: { preset: 'tiny' },
    stage: 'pretrain',
    precision: 'bf16',
    workload: { batch: 2, seqLen: 64 },
  });
  assert.equal(iterationFlops(train), 3 * forwardFlops(a, 2, 64));
  // MoE and NSA change the count; NSA attends to fewer keys than dense at long context.
  const long = { model: { preset: 'tiny' }, stage: 'inference', workload: { batch: 1, seqLen: 8192, newTokens: 1 } };
  assert.ok(
    iterationFlops(cfg({ ...long, attention: { kind: 'nsa', kvHeads: 2 } })) <
      iterationFlops(cfg({ ...long, attention: { kind: 'gqa', kvHeads: 2 } })),
  );
  assert.ok(iterationFlops(cfg({ ...long, moe: { experts: 8, topK: 2 } })) > iterationFlops(cfg(long)));
  // An hf model needs its parsed config.
  assert.throws(() => iterationFlops(cfg({ model: { source: 'hf', path: 'Qwen/Qwen2.5-0.5B' } })));
  assert.equal(
    iterationFlops(cfg({ model: { source: 'hf', path: 'x' }, stage: 'pretrain' }), hf('gpt2')),
    3 * forwardFlops(hf('gpt2'), 1, 128),
  );
});

test('NSA: the selected branch reads its own block up to the query plus selected − 1 earlier blocks', () => {
  const n = { block: 16, selected: 2, window: 32 };
  const a = arch({ model: { preset: 'tiny' }, attention: { kind: 'nsa', kvHeads: 2, nsa: n } });
  // Query at position 40 (context 41): compressed 2 ended blocks; selected 9 of its own block + 16;
  // window 32. The old count said min(41, 2·16) = 32 selected keys.
  const keys = 2 + (9 + 16) + 32;
  assert.equal(decodeStepFlops(a, 1, 41) - 2 * activeMatmulParams(a), TINY.layers * TINY_PAIR * keys);
});

test('defects 2 and 3: the floor sums each phase; a step gathers embedding rows, not the table', () => {
  const h100 = findGpu('NVIDIA H100 80GB HBM3');
  assert.ok(h100);
  const bw = 3.35e12;
  const peak = 989.5e12;
  // 0.5b (untied 151,936 × 896 tables), batch 1, one decode step after the prefill.
  const c = cfg({ model: { preset: '0.5b' }, precision: 'bf16', workload: { batch: 1, seqLen: 128, newTokens: 2 } });
  const a = archFromConfig(c);
  assert.ok(a);
  const table = 2 * a.shape.vocab * a.shape.hidden;
  const kv = kvBytesPerToken(a, 'bf16');
  const stepBytes = weightBytes(a, 'bf16') - table + 2 * a.shape.hidden + 129 * kv; // one row gathered
  const prefillBytes = weightBytes(a, 'bf16') - table + 128 * 2 * a.shape.hidden + 128 * kv;
  const want =
    Math.max(prefillFlops(a, 1, 128) / peak, prefillBytes / bw) +
    Math.max(decodeStepFlops(a, 1, 129) / peak, stepBytes / bw);
  within(iterationFloorS(c, h100) ?? 0, want, 1e-12, '0.5b floor');
  const old = (weightBytes(a, 'bf16') + 129 * kv) / bw;
  assert.ok(stepBytes / bw < 0.8 * old, 'the whole table overstated the decode floor');
  // 3b, batch 16, 2048 tokens: compute-bound prefill + memory-bound decode add up.
  const big = cfg({ model: { preset: '3b' }, precision: 'bf16', workload: { batch: 16, seqLen: 2048, newTokens: 32 } });
  const f = iterationFloorS(big, h100);
  const b3 = archFromConfig(big);
  assert.ok(f !== null && b3);
  const flopsOnly = iterationFlops(big) / peak;
  assert.ok(f > 1.2 * flopsOnly, `per-phase floor ${f} vs max over the sum ${flopsOnly}`);
  assert.equal(iterationFloorS(c, findGpu('cpu')!), null);
  assert.equal(iterationFloorS({ ...c, precision: 'fp8' }, findGpu('NVIDIA A100-SXM4-80GB')!), null);
  // Training moves optimizer state; LoRA's floor is below full fine-tuning's.
  const full = cfg({ model: { preset: '0.5b' }, stage: 'finetune', precision: 'bf16', peft: { method: 'full' } });
  const lora = cfg({
    model: { preset: '0.5b' },
    stage: 'finetune',
    precision: 'bf16',
    peft: { method: 'lora', rank: 8 },
  });
  const ff = iterationFloorS(full, h100);
  const fl = iterationFloorS(lora, h100);
  assert.ok(ff !== null && fl !== null && fl < ff);
});

test('defect 6: each matmul at the dtype that computes it, and the peak MFU divides by says which', () => {
  const h100 = findGpu('NVIDIA H100 80GB HBM3');
  assert.ok(h100);
  const int8 = cfg({
    model: { preset: '0.5b' },
    precision: 'int8',
    workload: { batch: 1, seqLen: 128, newTokens: 32 },
  });
  const i = analyseIteration(int8, h100);
  // The prefill's linears (128 rows) run int8's _int_mm; decode at batch 1, lm_head's last row and attention run in bf16.
  assert.ok(i.work.int8 && i.work.bf16, JSON.stringify(i.work));
  assert.ok(i.peak && i.peak.flopsPerS < 1979e12 && i.peak.flopsPerS > 989.5e12, JSON.stringify(i.peak));
  assert.match(i.peak.dtype, /int8 \d+% \+ bf16 \d+%|bf16 \d+% \+ int8 \d+%/);
  const a = analyticFor(int8, 'NVIDIA H100 80GB HBM3', 85e9);
  assert.equal(a.peakFlopsPerS, i.peak.flopsPerS);
  assert.equal(a.peakDtype, i.peak.dtype);
  // int8 fine-tuning dequantises (a gradient flows): all bf16, the bf16 peak, not int8's.
  const ft = cfg({ model: { preset: '0.5b' }, stage: 'finetune', precision: 'int8', peft: { method: 'lora' } });
  const t = analyticFor(ft, 'NVIDIA H100 80GB HBM3', 85e9);
  assert.equal(t.peakFlopsPerS, 989.5e12);
  assert.equal(t.peakDtype, 'bf16');
  // A device with no known peak: MFU has nothing to divide by.
  assert.equal(analyticFor(int8, 'Mystery Accelerator', null).peakFlopsPerS, null);
});

test('an int8/int4 KV cache is in the compute dtype: bf16 on CUDA, fp32 on a CPU (quant.compute_dtype)', () => {
  const t = arch({ model: { preset: 'tiny' } });
  const elements = 2 * TINY.layers * TINY.kvHeads * TINY.headDim; // K and V per token
  for (const p of ['int8', 'int4'] as const) {
    assert.equal(kvBytesPerToken(t, p), elements * 2);
    assert.equal(kvBytesPerToken(t, p, 'cpu'), elements * 4);
  }
  assert.equal(kvBytesPerToken(t, 'bf16', 'cpu'), elements * 2);
});

test('freeze tuning counts its trainable layers one by one (a dense first layer is smaller)', () => {
  const v2 = hf('deepseek-v2-lite');
  const L = v2.shape.layers;
  const all = trainableParams(v2, 'finetune', { method: 'freeze', rank: L, alpha: 0, targets: [] });
  const last = trainableParams(v2, 'finetune', { method: 'freeze', rank: L - 1, alpha: 0, targets: [] });
  // Freezing the last L − 1 layers leaves out only layer 0, which is dense: all − last is its size,
  // smaller than an MoE layer's share.
  const moeLayer = last / (L - 1);
  assert.ok(all - last < 0.5 * moeLayer, `layer 0: ${all - last}, an MoE layer: ${moeLayer}`);
});

test('estimateModel summary and floors', () => {
  const a = hf('llama-3-8b');
  const none = estimateModel(a, { precision: 'bf16', batch: 1, seqLen: 2048, gpu: null });
  assert.deepEqual(none.floors, {
    prefillS: null,
    decodePerTokenS: null,
    decodeS: null,
    inferenceS: null,
    trainStepS: null,
  });
  assert.equal(none.kvBytesPerToken, 131_072);
  const e = estimateModel(a, { precision: 'bf16', batch: 1, seqLen: 2048, gpu: findGpu('H100 SXM'), newTokens: 3 });
  assert.ok(e.floors.prefillS !== null && e.floors.decodePerTokenS !== null && e.floors.trainStepS !== null);
  // Batch-1 decode: weights (one embedding row gathered) + the cache ÷ bandwidth.
  const table = 2 * a.shape.vocab * a.shape.hidden;
  within(
    e.floors.decodePerTokenS,
    (e.weightBytes - table + 2 * a.shape.hidden + 2049 * e.kvBytesPerToken) / 3.35e12,
    1e-9,
    'decode floor',
  );
  assert.ok(e.floors.decodeS && e.floors.inferenceS && e.flops);
  within(e.floors.inferenceS ?? 0, e.floors.prefillS + e.floors.decodeS, 1e-12, 'inference floor');
  assert.equal(e.flops.decode, decodeStepFlops(a, 1, 2049) + decodeStepFlops(a, 1, 2050));
  assert.deepEqual(
    estimateModel(a, { precision: 'bf16', batch: 1, seqLen: 2048, gpu: findGpu('cpu') }).floors,
    none.floors,
  );
});

test('parseHfConfig names the bad field', () => {
  const r = parseHfConfig({
    model_type: 'llama',
    hidden_size: 'big',
    num_attention_heads: 32,
    num_hidden_layers: 2,
    intermediate_size: 10,
    vocab_size: 10,
  });
  assert.equal(r.ok, false);
  if (!r.ok)
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['hidden_size'],
    );
  const t = parseHfConfig({ model_type: 'bert' });
  assert.equal(t.ok, false);
  if (!t.ok) assert.match(t.errors[0].message, /"llama"/);
  const m = parseHfConfig({ model_type: 'qwen2' });
  assert.equal(m.ok, false);
  if (!m.ok) assert.ok(m.errors.some((e) => e.field === 'vocab_size'));
});

test('estimate command: Llama-3-8B fixture with --json', async () => {
  const io = fakeIo(FIXTURES);
  assert.equal(await estimateCommand(['llama-3-8b.json', '--json', '--gpu', 'NVIDIA H100 80GB HBM3'], io), 0);
  const out = JSON.parse(io.stdout) as Record<string, unknown>;
  assert.equal(Math.round((out.params as number) / 1e7) / 100, 8.03);
  assert.equal(out.kvBytesPerToken, 131072);
  assert.equal(out.precision, 'bf16'); // the checkpoint's torch_dtype
  for (const k of ['params', 'activeParams', 'weightBytes', 'kvBytesPerToken', 'flopsPerToken', 'floors'])
    assert.ok(k in out, k);
  assert.equal(out.gpu, 'H100 SXM');
});

test('estimate command: preset, ProfileConfig file, table output', async () => {
  const io = fakeIo(FIXTURES);
  assert.equal(await estimateCommand(['--preset', '0.5b', '--precision', 'int4', '--json'], io), 0);
  const i4 = JSON.parse(io.stdout) as { weightBytes: number; floors: { prefillS: null } };
  assert.equal(i4.floors.prefillS, null);
  const dir = mkdtempSync(join(tmpdir(), 'est-'));
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      model: { preset: 'tiny' },
      attention: { kind: 'mqa' },
      precision: 'fp16',
      workload: { seqLen: 256 },
    }),
  );
  const io2 = fakeIo(dir);
  assert.equal(await estimateCommand(['run.json', '--json'], io2), 0);
  const r = JSON.parse(io2.stdout) as { kvBytesPerToken: number; seqLen: number; precision: string };
  assert.equal(r.kvBytesPerToken, 2 * 2 * 1 * 32 * 2);
  assert.equal(r.seqLen, 256);
  assert.equal(r.precision, 'fp16');
  const io3 = fakeIo(FIXTURES);
  assert.equal(await estimateCommand(['mixtral-8x7b.json', '--gpu', 'L40S'], io3), 0);
  assert.match(io3.stdout, /active params\s+12\.88 B/);
  assert.match(io3.stdout, /decode step floor/);
});

test('estimate command: bad input is a UsageError naming the flag', async () => {
  const io = fakeIo(FIXTURES);
  const bad: [string[], RegExp][] = [
    [['--preset', '7b'], /--preset "7b".*"0\.5b"/],
    [['--preset', 'tiny', '--precision', 'int3'], /--precision "int3".*"int4"/],
    [['--preset', 'tiny', '--gpu', 'V100'], /--gpu "V100".*"H100 SXM"/],
    [['--preset', 'tiny', '--batch', '0'], /--batch/],
    [['--preset', 'tiny', '--seq-len', 'x'], /--seq-len/],
    [[], /CONFIG\.json or --preset/],
    [['llama-3-8b.json', '--preset', 'tiny'], /either/],
    [['missing.json'], /cannot read missing\.json/],
    [['--preset', 'tiny', '--frobnicate'], /frobnicate/],
  ];
  for (const [argv, re] of bad) {
    await assert.rejects(
      estimateCommand(argv, io),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      argv.join(' '),
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'est-'));
  writeFileSync(join(dir, 'hf.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
  writeFileSync(join(dir, 'pc.json'), JSON.stringify({ attention: { kind: 'xqa' }, model: { preset: 'tiny' } }));
  await assert.rejects(estimateCommand(['hf.json'], fakeIo(dir)), /num_attention_heads/);
  await assert.rejects(estimateCommand(['pc.json'], fakeIo(dir)), /attention\.kind/);
});
