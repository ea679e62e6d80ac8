// Detection resolves the model's shape through the file's config defaults (issue 13): nanoGPT's
// GPTConfig dataclass, Meta's Llama ModelArgs, DeepSeek-V3's ModelArgs, QLoRA's argument dataclasses.
// Expected numbers come from outside the code under test: the published shapes (GPT-2 small is 12
// layers × 768, 12 heads, FFN 4 × 768; Llama-3-8B's config.json says FFN 14336), and FFN and
// parameter formulas written out here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { DetectionCache, detectText } from '../../src/detect/detector';
import { listModelFiles } from '../../src/detect/scan';
import type { ModelSite } from '../../src/detect/site';
import { estimateSite } from '../../src/vscode/siteEstimate';

const PUBLIC = path.resolve(__dirname, '../fixtures/public');

async function sitesOf(rel: string): Promise<ModelSite[]> {
  const file = path.join(PUBLIC, rel);
  return detectText(rel, await readFile(file, 'utf8'));
}

const one = (sites: ModelSite[], kind: ModelSite['kind'], name?: string): ModelSite => {
  const s = sites.find((x) => x.kind === kind && (name === undefined || x.name === name));
  assert.ok(s, `a ${kind} site ${name ?? ''} among ${sites.map((x) => `${x.kind}:${x.name}`).join(', ')}`);
  return s;
};

/** Meta's FeedForward width, written out: 4·dim, ⌊2/3⌋, × multiplier, rounded up to multiple_of. */
function llamaFfn(dim: number, multipleOf: number, multiplier: number | null): number {
  let h = Math.floor((2 * (4 * dim)) / 3);
  if (multiplier !== null) h = Math.floor(multiplier * h);
  return multipleOf * Math.ceil(h / multipleOf);
}

test('GPT-2 (nanoGPT): GPTConfig defaults give the whole shape, each number with its source', async () => {
  const sites = await sitesOf('nanogpt/model.py');
  const attn = one(sites, 'attention', 'CausalSelfAttention');
  assert.equal(attn.attention, 'mha');
  const d = attn.details;
  assert.deepEqual(
    { layers: d.layers, heads: d.heads, hidden: d.hidden, ffn: d.ffn, vocab: d.vocab },
    { layers: 12, heads: 12, hidden: 768, ffn: 4 * 768, vocab: 50304 },
  );
  assert.deepEqual(d.shapeFrom, {
    heads: 'GPTConfig.n_head',
    hidden: 'GPTConfig.n_embd',
    layers: 'GPTConfig.n_layer',
    vocab: 'GPTConfig.vocab_size',
    ffn: 'MLP.c_fc',
  });
  assert.equal(d.configClass, 'GPTConfig');
  assert.equal(d.block, 'gpt2');
  assert.equal(d.positions, 1024);
  // The from_pretrained table further down (gpt2-medium's n_layer=24 …) does not override the defaults.
  const load = one(sites, 'load');
  assert.deepEqual(load.details.modelChoices, ['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl']);
  assert.equal(load.details.model, undefined, 'a variable checkpoint is not a checkpoint');

  // GPT-2 small's parameters, written out: wte + wpe + 12 × (12h² + 13h) + final LayerNorm (2h).
  const h = 768;
  const expected = 50304 * h + 1024 * h + 12 * (12 * h * h + 13 * h) + 2 * h;
  const e = estimateSite(attn, 'fp32');
  assert.ok(e);
  assert.equal(e.scope, 'model');
  assert.equal(e.params, expected);
  assert.equal(e.weightBytes, 4 * expected);
});

test("Llama 3 (Meta's reference code): ModelArgs defaults make it MHA; FFN by Meta's rule; vocab left out", async () => {
  const sites = await sitesOf('llama3/model.py');
  const attn = one(sites, 'attention', 'Attention');
  // n_kv_heads defaults to None: `args.n_heads if args.n_kv_heads is None else …` → 32, i.e. MHA.
  assert.equal(attn.attention, 'mha');
  const d = attn.details;
  // n_local_heads = n_heads // fs_init.get_model_parallel_world_size(): the model's heads (one rank).
  assert.deepEqual([d.heads, d.kvHeads, d.hidden, d.headDim, d.layers], [32, 32, 4096, 128, 32]);
  assert.equal(d.ffn, llamaFfn(4096, 256, null));
  assert.equal(d.ffn, 11008);
  // vocab_size = -1 is set from the tokenizer: not a number this file pins down.
  assert.equal(d.vocab, undefined);
  assert.equal(d.headsFrom, undefined, 'resolved, so no source expression');
  assert.match(d.shapeFrom?.ffn ?? '', /^FeedForward \(4 × dim rounded to multiple_of 256\)$/);

  // Llama-3-8B's published args (params.json: multiple_of 1024, ffn_dim_multiplier 1.3, n_kv_heads 8)
  // give its config.json's intermediate_size.
  const hf = JSON.parse(
    await readFile(path.resolve(__dirname, '../fixtures/hf-configs/llama-3-8b.json'), 'utf8'),
  ) as Record<string, number>;
  const text = (await readFile(path.join(PUBLIC, 'llama3/model.py'), 'utf8'))
    .replace('multiple_of: int = 256', 'multiple_of: int = 1024')
    .replace('ffn_dim_multiplier: Optional[float] = None', 'ffn_dim_multiplier: Optional[float] = 1.3')
    .replace('n_kv_heads: Optional[int] = None', 'n_kv_heads: Optional[int] = 8');
  const eight = one(await detectText('llama3-8b.py', text), 'attention', 'Attention');
  assert.equal(eight.attention, 'gqa');
  assert.deepEqual([eight.details.heads, eight.details.kvHeads], [hf.num_attention_heads, hf.num_key_value_heads]);
  assert.equal(eight.details.ffn, hf.intermediate_size);
  assert.equal(llamaFfn(4096, 1024, 1.3), hf.intermediate_size);
});

test('the LLaMA ModelArgs sketch (n_kv_heads 8) stays GQA with its FFN', async () => {
  const text = await readFile(path.resolve(__dirname, '../fixtures/models/meta/model.py'), 'utf8');
  const attn = one(await detectText('meta/model.py', text), 'attention');
  assert.equal(attn.attention, 'gqa');
  assert.deepEqual(
    [attn.details.heads, attn.details.kvHeads, attn.details.layers, attn.details.ffn],
    [32, 8, 32, llamaFfn(4096, 256, null)],
  );
});

test('DeepSeek-V3: MLA and MoE from ModelArgs, the FP8 weight path found, no dense FFN beside the MoE', async () => {
  const sites = await sitesOf('deepseek-v3/model.py');
  const mla = one(sites, 'attention', 'MLA');
  assert.equal(mla.attention, 'mla');
  assert.deepEqual(
    [mla.details.heads, mla.details.hidden, mla.details.kvRank, mla.details.ropeDim, mla.details.layers],
    [16, 2048, 512, 64, 27],
  );
  assert.equal(mla.details.ffn, undefined, 'inter_dim is only the first dense layer of an MoE model');
  const e = estimateSite(mla, 'bf16');
  assert.ok(e, 'every attention site with a shape gets an estimate');
  assert.equal(e.scope, 'layer');
  // MLA caches the latent and the RoPE key per token: (512 + 64) × 2 bytes × 1000 tokens.
  assert.equal(e.kvBytesPer1k, (512 + 64) * 2 * 1000);
  const moe = one(sites, 'moe', 'MoE');
  assert.deepEqual([moe.details.experts, moe.details.topK, moe.details.sharedExperts], [64, 6, 2]);
  const fp8 = one(sites, 'quantization', 'fp8_gemm');
  assert.equal(fp8.details.precision, 'fp8');
});

test('QLoRA: 4-bit NF4 with double quant and LoRA r/alpha from the argument dataclasses; run-time values left out', async () => {
  const sites = await sitesOf('qlora/qlora.py');
  const q = one(sites, 'quantization', 'BitsAndBytesConfig').details;
  assert.deepEqual(
    { precision: q.precision, quantType: q.quantType, doubleQuant: q.doubleQuant, loadIn4bit: q.loadIn4bit },
    { precision: 'int4', quantType: 'nf4', doubleQuant: true, loadIn4bit: true },
  );
  assert.equal(q.computeDtype, undefined, 'compute_dtype is chosen from flags at run time');
  const lora = one(sites, 'peft', 'LoraConfig').details;
  assert.deepEqual([lora.method, lora.rank, lora.alpha, lora.dropout], ['lora', 64, 16, 0]);
  assert.equal(lora.targetModules, undefined, 'find_all_linear_names(…) is known at run time only');
  const load = one(sites, 'load', 'AutoModelForCausalLM.from_pretrained').details;
  assert.equal(load.model, 'EleutherAI/pythia-12b');
  assert.equal(load.precision, 'int4');
  assert.equal(load.dtype, undefined);
  const adapter = one(sites, 'load', 'PeftModel.from_pretrained').details;
  assert.equal(adapter.model, undefined);
  assert.equal(adapter.adapter, true);
});

test('the public-shape fixtures: the prefiltered path finds what reading every statement finds', async () => {
  const { files } = await listModelFiles([PUBLIC]);
  const full = await new DetectionCache(undefined, { prefilter: false }).detectFiles(files);
  const pre = await new DetectionCache().detectFiles(files);
  assert.deepEqual(pre, full);
  assert.ok(full.sites.length >= 10);
});
