// Analytic estimator: parameter counts, weight and KV-cache bytes, FLOPs and roofline floor times,
// from a model's shape alone (no weights). It feeds the instant CodeLens hints, `efficientllm
// estimate`, and the MFU / floor metrics of a finished run, so its conventions are the metrics'
// conventions and are stated where they are decided:
//
// * FLOPs are model FLOPs: 2 per multiply-accumulate of every matmul a token passes through
//   (attention projections, MLP / active experts, router, lm_head), plus attention scores and the
//   weighted sum of values. The embedding lookup is a gather and costs none. Under a causal mask a
//   sequence of L tokens computes half of the L×L score matrix, so a full sequence is counted at L²/2
//   key-query pairs (what FlashAttention's causal kernels do); a decode step attends to its whole
//   context. Norms, activations, softmax and RoPE are left out (they are <1% and not tensor-core work).
// * Training FLOPs are 3× forward (backward = 2× forward), the usual MFU convention, also for PEFT.
// * Floors are rooflines: max(FLOPs ÷ dense peak of the dtype, bytes ÷ memory bandwidth). The bytes are
//   the unavoidable traffic only (weights, KV cache, optimizer state); activations are assumed to stay
//   on chip, so a floor is a lower bound that no real run reaches.
import type {
  AttentionKind,
  ModelShape,
  MoeSpec,
  NsaOptions,
  PeftSpec,
  Precision,
  ProfileConfig,
  Workload,
} from './config';
import { peakFlops, type GpuSpec } from './gpus';

/** Multi-head latent attention dimensions (DeepSeek-V2/V3 names in comments). */
export interface MlaDims {
  /** kv_lora_rank: width of the compressed KV latent that is cached. */
  kvRank: number;
  /** q_lora_rank: 0 means queries are projected straight from the hidden state. */
  qRank: number;
  /** qk_rope_head_dim: the decoupled RoPE key, shared by all heads and cached beside the latent. */
  ropeDim: number;
  /** qk_nope_head_dim: per-head query/key width without RoPE. */
  qkNopeDim: number;
  /** v_head_dim. */
  vHeadDim: number;
}

/** Sparse mixture of experts, with DeepSeek's layout knobs (Mixtral: every layer, no shared experts). */
export interface MoeLayout {
  /** Routed experts per MoE layer. */
  experts: number;
  /** Routed experts each token uses. */
  topK: number;
  /** Shared experts every token passes through, each as wide as a routed one. */
  shared: number;
  /** Intermediate width of one expert's SwiGLU (moe_intermediate_size; Mixtral's intermediate_size). */
  expertFfn: number;
  /** Leading layers that keep a dense MLP of width shape.ffn (first_k_dense_replace). */
  firstDense: number;
  /** From firstDense on, layer i is MoE when i % layerFreq === 0 (moe_layer_freq), as in DeepSeek's code. */
  layerFreq: number;
  /** A learned per-expert router bias (DeepSeek-V3 e_score_correction_bias). */
  routerBias: boolean;
}

/**
 * Everything the estimator needs about a model. `decoder` is the Llama family (RoPE, RMSNorm,
 * SwiGLU, no biases except optional q/k/v); `gpt2` is its own family: learned positions, LayerNorm with
 * bias, biases on every linear, fused c_attn and a 4×GELU MLP of width shape.ffn.
 */
export interface ModelArch {
  family: 'decoder' | 'gpt2';
  shape: ModelShape;
  attention: AttentionKind;
  mla: MlaDims | null;
  nsa: NsaOptions | null;
  moe: MoeLayout | null;
  /** lm_head shares the embedding matrix (counted once, still a matmul for FLOPs). */
  tiedEmbeddings: boolean;
  /** Biases on the q, k and v projections (Qwen2). */
  qkvBias: boolean;
  /** Learned absolute position embeddings (GPT-2 n_positions); 0 for RoPE models. */
  positions: number;
}

/** One kind of weight matrix and how many of it the model holds / a token uses. */
interface LinearGroup {
  name: string;
  /** PEFT target names that select this matrix ("q", "k", "v", "o", "gate", "up", "down"). */
  targets: readonly string[];
  out: number;
  in: number;
  count: number;
  activeCount: number;
  /** A routed expert's matrix: only the touched experts' copies are read in a step. */
  routed: boolean;
  /** Weight-only quantization applies (every linear, lm_head included, except the MoE router). */
  quantized: boolean;
  /** Lives in every decoder layer (not lm_head): freeze-PEFT averages these per layer to count trailing layers. */
  perLayer: boolean;
}

interface Breakdown {
  linears: LinearGroup[];
  /** Token (and GPT-2 position) embedding table, which is also lm_head when tied. */
  embedding: number;
  /** Norm weights/biases, linear biases, router biases: kept in bf16/fp32 under quantization. */
  small: number;
  /** Matmul parameters of lm_head (counted in FLOPs even when tied). */
  lmHeadMatmul: number;
  moeLayers: number;
}

function moeLayerCount(layers: number, moe: MoeLayout | null): number {
  if (!moe) return 0;
  let n = 0;
  for (let i = moe.firstDense; i < layers; i++) if (i % moe.layerFreq === 0) n++;
  return n;
}

function breakdown(a: ModelArch): Breakdown {
  const s = a.shape;
  const L = s.layers;
  const h = s.hidden;
  const linears: LinearGroup[] = [];
  const add = (
    name: string,
    targets: readonly string[],
    out: number,
    inF: number,
    count: number,
    activeCount = count,
    extra: Partial<LinearGroup> = {},
  ): void => {
    if (count > 0 && out > 0 && inF > 0) {
      linears.push({
        name,
        targets,
        out,
        in: inF,
        count,
        activeCount,
        routed: false,
        quantized: true,
        perLayer: true,
        ...extra,
      });
    }
  };
  let small = 0;
  let embedding = s.vocab * h;

  if (a.family === 'gpt2') {
    // GPT-2 (HF GPT2Model): wte + wpe; per block ln_1, c_attn (h→3h), c_proj (h→h), ln_2, c_fc (h→ffn),
    // c_proj (ffn→h), all with biases; ln_f. lm_head is tied to wte.
    embedding += a.positions * h;
    add('c_attn', ['q', 'k', 'v', 'c_attn'], 3 * h, h, L);
    add('attn.c_proj', ['o', 'c_proj'], h, h, L);
    add('c_fc', ['up', 'c_fc'], s.ffn, h, L);
    add('mlp.c_proj', ['down', 'c_proj'], h, s.ffn, L);
    small += L * (3 * h + h + s.ffn + h); // biases
    small += L * 2 * (2 * h) + 2 * h; // LayerNorm weight + bias: ln_1, ln_2 per block, ln_f
    return { linears, embedding, small, lmHeadMatmul: s.vocab * h, moeLayers: 0 };
  }

  // Attention projections.
  if (a.attention === 'mla') {
    const m = a.mla ?? defaultMla(s);
    const qk = m.qkNopeDim + m.ropeDim;
    if (m.qRank > 0) {
      add('q_a', ['q'], m.qRank, h, L);
      small += L * m.qRank; // q_a_layernorm
      add('q_b', ['q'], s.heads * qk, m.qRank, L);
    } else {
      add('q', ['q'], s.heads * qk, h, L);
    }
    add('kv_a', ['k', 'v'], m.kvRank + m.ropeDim, h, L);
    small += L * m.kvRank; // kv_a_layernorm
    add('kv_b', ['k', 'v'], s.heads * (m.qkNopeDim + m.vHeadDim), m.kvRank, L);
    add('o', ['o'], h, s.heads * m.vHeadDim, L);
  } else {
    add('q', ['q'], s.heads * s.headDim, h, L);
    add('k', ['k'], s.kvHeads * s.headDim, h, L);
    add('v', ['v'], s.kvHeads * s.headDim, h, L);
    add('o', ['o'], h, s.heads * s.headDim, L);
    if (a.qkvBias) small += L * (s.heads + 2 * s.kvHeads) * s.headDim;
    if (a.attention === 'nsa') {
      // NSA assumption: the three branches (compressed, selected, sliding window) are mixed by a
      // per-head sigmoid gate computed from the hidden state (hidden → 3×heads, no bias), and block
      // compression is mean pooling without parameters. Otherwise NSA has GQA's projections.
      add('nsa_gate', ['gate_nsa'], 3 * s.heads, h, L);
    }
  }
  small += L * 2 * h; // input and post-attention RMSNorm
  small += h; // final norm

  // MLPs.
  const moeLayers = moeLayerCount(L, a.moe);
  const denseLayers = L - moeLayers;
  add('gate', ['gate'], s.ffn, h, denseLayers);
  add('up', ['up'], s.ffn, h, denseLayers);
  add('down', ['down'], h, s.ffn, denseLayers);
  if (a.moe && moeLayers > 0) {
    const e = a.moe;
    const f = e.expertFfn;
    const routed = { routed: true };
    add('expert.gate', ['gate'], f, h, moeLayers * e.experts, moeLayers * e.topK, routed);
    add('expert.up', ['up'], f, h, moeLayers * e.experts, moeLayers * e.topK, routed);
    add('expert.down', ['down'], h, f, moeLayers * e.experts, moeLayers * e.topK, routed);
    add('shared.gate', ['gate'], f, h, moeLayers * e.shared);
    add('shared.up', ['up'], f, h, moeLayers * e.shared);
    add('shared.down', ['down'], h, f, moeLayers * e.shared);
    // The router stays unquantized: quantization recipes skip it (tiny, and routing is sensitive to it).
    add('router', [], e.experts, h, moeLayers, moeLayers, { quantized: false });
    if (e.routerBias) small += moeLayers * e.experts;
  }
  // An untied lm_head is a linear outside the decoder layers. Quantized like the rest (see
  // weightBytesOf: the harness's quant.py quantizes lm_head and the embedding too).
  if (!a.tiedEmbeddings) add('lm_head', [], s.vocab, h, 1, 1, { perLayer: false });
  return { linears, embedding, small, lmHeadMatmul: s.vocab * h, moeLayers };
}

function defaultMla(s: ModelShape): MlaDims {
  return {
    kvRank: Math.max(16, Math.floor(s.hidden / 4)),
    qRank: 0,
    ropeDim: Math.max(2, Math.floor(s.headDim / 2)),
    qkNopeDim: s.headDim,
    vHeadDim: s.headDim,
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((x, y) => x + y, 0);

/** Total parameters, as `sum(p.numel() for p in model.parameters())` counts them (tied counted once). */
export function countParams(a: ModelArch): number {
  const b = breakdown(a);
  return b.embedding + b.small + sum(b.linears.map((g) => g.out * g.in * g.count));
}

/**
 * Parameters a token uses: everything except the routed experts it is not sent to. Dense models:
 * equal to countParams. The embedding table is included (Mixtral's "12.9B active" convention); see
 * activeMatmulParams for the count without it.
 */
export function countActiveParams(a: ModelArch): number {
  const b = breakdown(a);
  return b.embedding + b.small + sum(b.linears.map((g) => g.out * g.in * g.activeCount));
}

/**
 * Weights a token multiplies by: active linears plus lm_head (even when tied), without the embedding
 * gather. FLOPs per token are 2× this plus attention. DeepSeek's "activated" figures use about this count.
 */
export function activeMatmulParams(a: ModelArch): number {
  const b = breakdown(a);
  const linear = sum(b.linears.filter((g) => g.name !== 'lm_head').map((g) => g.out * g.in * g.activeCount));
  return linear + b.lmHeadMatmul;
}

// ---- bytes ----

/** Bytes of a full-precision element: fp32 stays fp32, everything else keeps non-quantized tensors in 16 bits. */
function plainBytes(p: Precision): number {
  return p === 'fp32' ? 4 : 2;
}

const INT4_GROUP = 128;

/**
 * Stored bytes of one out×in weight matrix, exactly as the harness's quant.py stores it. int8: one
 * byte per weight + a 2-byte (bf16) scale per output channel (row); int4: two 4-bit codes per byte
 * (⌈in/2⌉ bytes per row) + per row and group of 128 inputs (the last group shorter) a 2-byte scale and
 * a 2-byte zero point; fp8: one byte per weight + one 4-byte (fp32) per-tensor scale.
 */
export function linearBytes(out: number, inF: number, p: Precision): number {
  switch (p) {
    case 'fp32':
      return 4 * out * inF;
    case 'bf16':
    case 'fp16':
      return 2 * out * inF;
    case 'fp8':
      return out * inF + 4;
    case 'int8':
      return out * inF + 2 * out;
    case 'int4':
      return out * Math.ceil(inF / 2) + out * Math.ceil(inF / INT4_GROUP) * 2 * 2;
  }
}

/**
 * Weight bytes with `expertsTouched` routed experts per MoE layer resident/read (all by default).
 * Quantization (int8, int4, fp8) applies to every linear weight (lm_head included) except MoE routers,
 * and to the token embedding table, quantized by rows like a vocab×hidden linear and dequantized on
 * gather (a tied lm_head shares it, counted once); only norms, biases, routers and GPT-2's position
 * table stay 16-bit. This is the harness's rule (src/harness/efficientllm_harness/quant.py), so for
 * synthetic models the estimate and the measured weightBytes agree byte for byte
 * (test/python/test_quant_quality.py recomputes it). Quantizing the embedding and lm_head is what lets
 * a large-vocabulary model shrink as a whole: the 0.5b preset's untied 152k-vocab tables are 43% of it.
 */
function weightBytesOf(b: Breakdown, a: ModelArch, p: Precision, expertsTouched?: number): number {
  const tokenTable = a.shape.vocab * a.shape.hidden;
  let bytes = (b.embedding - tokenTable + b.small) * plainBytes(p) + linearBytes(a.shape.vocab, a.shape.hidden, p);
  for (const g of b.linears) {
    let n = g.count;
    if (g.routed && a.moe && expertsTouched !== undefined)
      n = (g.count / a.moe.experts) * Math.min(a.moe.experts, expertsTouched);
    bytes += n * (g.quantized ? linearBytes(g.out, g.in, p) : plainBytes(p) * g.out * g.in);
  }
  return bytes;
}

export function weightBytes(a: ModelArch, p: Precision): number {
  return weightBytesOf(breakdown(a), a, p);
}

/**
 * KV-cache element size. int8/int4/fp8 here are weight-only schemes: activations and the cache stay
 * bf16, so 2 bytes; fp32 runs cache in fp32.
 */
export function kvElementBytes(p: Precision): number {
  return plainBytes(p);
}

/**
 * Bytes of KV cache per token of context (all layers). MHA/GQA/MQA: K and V of kvHeads heads. MLA: the
 * compressed latent plus the shared RoPE key. NSA: as GQA — its keys/values for the selected and
 * window branches are the full cache; the compressed-block keys (1/block of it) are left out.
 */
export function kvBytesPerToken(a: ModelArch, p: Precision): number {
  const s = a.shape;
  const e = kvElementBytes(p);
  if (a.family === 'decoder' && a.attention === 'mla') {
    const m = a.mla ?? defaultMla(s);
    return (m.kvRank + m.ropeDim) * s.layers * e;
  }
  return 2 * s.layers * s.kvHeads * s.headDim * e;
}

// ---- FLOPs ----

/** Widths of the score (q·k) and value sums per head. MLA is counted in its decompressed form. */
function attentionDims(a: ModelArch): { qk: number; v: number } {
  if (a.family === 'decoder' && a.attention === 'mla') {
    const m = a.mla ?? defaultMla(a.shape);
    return { qk: m.qkNopeDim + m.ropeDim, v: m.vHeadDim };
  }
  return { qk: a.shape.headDim, v: a.shape.headDim };
}

/** FLOPs of attention per (query, key) pair over all layers: 2×heads×(qk + v) per layer. */
function attentionFlopsPerPair(a: ModelArch): number {
  const d = attentionDims(a);
  return 2 * a.shape.layers * a.shape.heads * (d.qk + d.v);
}

/** Sum over positions 1..L of min(i, cap), in the L²/2 continuum convention. */
function cappedCausal(L: number, cap: number): number {
  return L <= cap ? (L * L) / 2 : (cap * cap) / 2 + (L - cap) * cap;
}

/** Keys one query attends to at context c. NSA: compressed blocks + selected blocks + sliding window. */
function keysAt(a: ModelArch, c: number): number {
  if (a.attention === 'nsa' && a.nsa) {
    const n = a.nsa;
    return c / n.block + Math.min(c, n.selected * n.block) + Math.min(c, n.window);
  }
  return c;
}

/** Query–key pairs of a causal sequence of length L (L²/2 for dense attention). */
function causalPairs(a: ModelArch, L: number): number {
  if (a.attention === 'nsa' && a.nsa) {
    const n = a.nsa;
    return (L * L) / (2 * n.block) + cappedCausal(L, n.selected * n.block) + cappedCausal(L, n.window);
  }
  return (L * L) / 2;
}

/**
 * Forward FLOPs per token, averaged over a causal sequence of `context` tokens:
 * 2 × activeMatmulParams + attention at half the full score matrix (dense: 2×layers×heads×headDim×context
 * for the usual qk = v = headDim, i.e. 2·2·layers·heads·headDim·context halved).
 */
export function flopsPerToken(a: ModelArch, context: number): number {
  return 2 * activeMatmulParams(a) + (attentionFlopsPerPair(a) * causalPairs(a, context)) / Math.max(1, context);
}

/** Forward FLOPs of a batch of causal sequences of length L (prefill, or a training forward). */
export function prefillFlops(a: ModelArch, batch: number, L: number): number {
  return batch * (2 * activeMatmulParams(a) * L + attentionFlopsPerPair(a) * causalPairs(a, L));
}

/** Forward FLOPs of one decode step: `batch` new tokens, each attending to `context` keys (itself included). */
export function decodeStepFlops(a: ModelArch, batch: number, context: number): number {
  return batch * (2 * activeMatmulParams(a) + attentionFlopsPerPair(a) * keysAt(a, context));
}

// ---- trainable parameters ----

/**
 * Parameters the optimizer updates. full/pretrain: all. lora/rslora: rank×(in+out) per targeted
 * matrix; dora adds a magnitude vector (out) per matrix. freeze: the last `rank` decoder layers train
 * whole (linears, experts, router, their norms and biases); embedding, final norm and lm_head stay
 * frozen (LLaMA-Factory's freeze tuning; the harness's peft.py does the same).
 */
export function trainableParams(a: ModelArch, stage: ProfileConfig['stage'], peft: PeftSpec | null): number {
  if (stage === 'inference') return 0;
  if (stage === 'pretrain' || !peft || peft.method === 'full') return countParams(a);
  const b = breakdown(a);
  if (peft.method === 'freeze') {
    const layers = Math.min(a.shape.layers, peft.rank);
    // Everything but the embedding, the final norm (GPT-2: LayerNorm weight + bias) and lm_head lives in a layer.
    const finalNorm = a.family === 'gpt2' ? 2 * a.shape.hidden : a.shape.hidden;
    const outside =
      b.embedding + finalNorm + sum(b.linears.filter((g) => !g.perLayer).map((g) => g.out * g.in * g.count));
    return (layers * (countParams(a) - outside)) / a.shape.layers;
  }
  let n = 0;
  for (const g of b.linears) {
    if (!g.targets.some((t) => peft.targets.includes(t)) && !peft.targets.includes(g.name)) continue;
    n += g.count * (peft.rank * (g.in + g.out) + (peft.method === 'dora' ? g.out : 0));
  }
  return n;
}

// ---- floors ----

function floor(flops: number, bytes: number, gpu: GpuSpec, p: Precision): number | null {
  const peak = peakFlops(gpu, p);
  if (peak === null || gpu.bandwidthBytesPerS === null) return null;
  return Math.max(flops / peak, bytes / gpu.bandwidthBytesPerS);
}

/** Weights read by one forward over `tokens` tokens: routed experts only as many as the tokens can reach. */
function forwardWeightBytes(b: Breakdown, a: ModelArch, p: Precision, tokens: number): number {
  return weightBytesOf(b, a, p, a.moe ? tokens * a.moe.topK : undefined);
}

/**
 * Bytes a training step must move (approximation): weights read once; for each trainable parameter
 * the weight written, its gradient written and read, and Adam's two fp32 moments read and written.
 * Activations, their recomputation and the frozen weights' second read in backward are ignored.
 */
function trainStepBytes(a: ModelArch, p: Precision, trainable: number): number {
  const e = plainBytes(p);
  return weightBytes(a, p) + trainable * (e + 2 * e + 2 * 2 * 4);
}

type IterationWorkload = Pick<Workload, 'batch' | 'seqLen' | 'newTokens'>;

/** FLOPs and bytes of one measured harness iteration (see iterationFlops / iterationFloorS). */
function iterationCost(
  a: ModelArch,
  stage: ProfileConfig['stage'],
  peft: PeftSpec | null,
  p: Precision,
  w: IterationWorkload,
): { flops: number; bytes: number } {
  const b = breakdown(a);
  if (stage === 'inference') {
    let flops = prefillFlops(a, w.batch, w.seqLen);
    let bytes = forwardWeightBytes(b, a, p, w.batch * w.seqLen);
    const kv = kvBytesPerToken(a, p);
    const stepWeights = forwardWeightBytes(b, a, p, w.batch);
    // The first new token comes from the prefill's logits; each later one is a decode step whose
    // token sits at position seqLen + j and attends to seqLen + j keys.
    for (let j = 1; j < w.newTokens; j++) {
      const c = w.seqLen + j;
      flops += decodeStepFlops(a, w.batch, c);
      bytes += stepWeights + w.batch * kv * keysAt(a, c);
    }
    return { flops, bytes };
  }
  return {
    flops: 3 * prefillFlops(a, w.batch, w.seqLen),
    bytes: trainStepBytes(a, p, trainableParams(a, stage, peft)),
  };
}

// ---- ProfileConfig entry points ----

/**
 * The estimator's view of a synthetic ProfileConfig. MLA uses qkNope = vHead = headDim; synthetic MoE
 * replaces every layer's MLP with experts of width shape.ffn (shared ones too); embeddings are untied
 * and there are no biases. Returns null for an `hf` model, whose shape lives in its config.json
 * (parse it with hfConfig.ts and pass the result where an arch is accepted).
 */
export function archFromConfig(cfg: ProfileConfig): ModelArch | null {
  if (cfg.model.source !== 'synthetic') return null;
  const shape = { ...cfg.model.shape, kvHeads: cfg.attention.kvHeads };
  const m = cfg.attention.mla;
  return {
    family: 'decoder',
    shape,
    attention: cfg.attention.kind,
    mla:
      cfg.attention.kind === 'mla' && m
        ? { kvRank: m.kvRank, qRank: m.qRank, ropeDim: m.ropeDim, qkNopeDim: shape.headDim, vHeadDim: shape.headDim }
        : null,
    nsa: cfg.attention.kind === 'nsa' ? cfg.attention.nsa : null,
    moe: cfg.moe ? moeFromSpec(cfg.moe, shape.ffn) : null,
    tiedEmbeddings: false,
    qkvBias: false,
    positions: 0,
  };
}

export function moeFromSpec(m: MoeSpec, ffn: number): MoeLayout {
  return {
    experts: m.experts,
    topK: m.topK,
    shared: m.shared,
    expertFfn: ffn,
    firstDense: 0,
    layerFreq: 1,
    routerBias: false,
  };
}

function requireArch(cfg: ProfileConfig, arch: ModelArch | undefined): ModelArch {
  const a = arch ?? archFromConfig(cfg);
  if (!a)
    throw new Error(
      `model "${cfg.model.source === 'hf' ? cfg.model.path : ''}" is a Hugging Face checkpoint; pass its parsed config.json (hfConfig) as the arch`,
    );
  return a;
}

/**
 * Model FLOPs of one measured harness iteration. inference: prefill of batch×seqLen tokens (causal,
 * halved) + (newTokens − 1) decode steps of `batch` tokens each attending to its current context.
 * pretrain/finetune: 3 × forward FLOPs of batch×seqLen tokens.
 */
export function iterationFlops(cfg: ProfileConfig, arch?: ModelArch): number {
  const a = requireArch(cfg, arch);
  return iterationCost(a, cfg.stage, cfg.peft, cfg.precision, cfg.workload).flops;
}

/**
 * Roofline floor of one iteration: max(FLOPs ÷ dense peak of the dtype, bytes ÷ bandwidth). Bytes —
 * inference: weights read by the prefill and again by every decode step (MoE: only the experts the
 * step's tokens can reach) + the KV cache each decode step reads; training: see trainStepBytes.
 * Null when the GPU's peak for this precision or its bandwidth is unknown (CPU, A100 fp8).
 */
export function iterationFloorS(cfg: ProfileConfig, gpu: GpuSpec, arch?: ModelArch): number | null {
  const a = requireArch(cfg, arch);
  const c = iterationCost(a, cfg.stage, cfg.peft, cfg.precision, cfg.workload);
  return floor(c.flops, c.bytes, gpu, cfg.precision);
}

// ---- the `estimate` command's summary ----

export interface EstimateOptions {
  precision: Precision;
  batch: number;
  seqLen: number;
  gpu: GpuSpec | null;
  /** PEFT of the training floor; null = full training. */
  peft?: PeftSpec | null;
}

export interface Floors {
  /** Prefill of batch×seqLen tokens (time to first token). */
  prefillS: number | null;
  /** One decode step (one new token for each of the batch's sequences) at context seqLen + 1. */
  decodePerTokenS: number | null;
  /** One training step (forward + backward + AdamW update) on batch×seqLen tokens. */
  trainStepS: number | null;
}

export interface ModelEstimate {
  params: number;
  activeParams: number;
  /** activeParams without the embedding gather, plus a tied lm_head: what FLOPs are counted on. */
  activeMatmulParams: number;
  weightBytes: number;
  kvBytesPerToken: number;
  /** Forward FLOPs per token averaged over a causal sequence of seqLen. */
  flopsPerToken: number;
  floors: Floors;
}

export function estimateModel(a: ModelArch, o: EstimateOptions): ModelEstimate {
  const b = breakdown(a);
  const kv = kvBytesPerToken(a, o.precision);
  let floors: Floors = { prefillS: null, decodePerTokenS: null, trainStepS: null };
  if (o.gpu) {
    const g = o.gpu;
    const stage = o.peft && o.peft.method !== 'full' ? 'finetune' : 'pretrain';
    const trainable = trainableParams(a, stage, o.peft ?? null);
    const c = o.seqLen + 1;
    floors = {
      prefillS: floor(
        prefillFlops(a, o.batch, o.seqLen),
        forwardWeightBytes(b, a, o.precision, o.batch * o.seqLen),
        g,
        o.precision,
      ),
      decodePerTokenS: floor(
        decodeStepFlops(a, o.batch, c),
        forwardWeightBytes(b, a, o.precision, o.batch) + o.batch * kv * keysAt(a, c),
        g,
        o.precision,
      ),
      trainStepS: floor(
        3 * prefillFlops(a, o.batch, o.seqLen),
        trainStepBytes(a, o.precision, trainable),
        g,
        o.precision,
      ),
    };
  }
  return {
    params: countParams(a),
    activeParams: countActiveParams(a),
    activeMatmulParams: activeMatmulParams(a),
    weightBytes: weightBytesOf(b, a, o.precision),
    kvBytesPerToken: kv,
    flopsPerToken: flopsPerToken(a, o.seqLen),
    floors,
  };
}
