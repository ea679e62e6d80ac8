// Analytic estimator: parameter counts, weight and KV-cache bytes, FLOPs and roofline floor times,
// from a model's shape alone (no weights). It feeds the instant CodeLens hints, `efficientllm
// estimate`, and the MFU / floor metrics of a finished run, so its conventions are the metrics'
// conventions and are stated where they are decided. FLOPs are counted as the harness computes them
// (test/python/test_flops.py checks them against a count of every matmul the harness executes):
//
// * FLOPs are model FLOPs: 2 per multiply-accumulate of every matmul that runs (attention projections,
//   MLP / active experts, router, lm_head, adapters), plus attention scores and the weighted sum of
//   values. The embedding lookup is a gather and costs none. Under a causal mask a sequence of L tokens
//   computes half of the L×L score matrix, so a full sequence is counted at L²/2 key-query pairs (what
//   FlashAttention's causal kernels do); a decode step attends to its whole context. Norms,
//   activations, softmax and RoPE are left out (they are <1% and not tensor-core work).
// * Prefill computes logits at the last prompt position only (the harness's last_only=True, HF's
//   logits_to_keep=1); a training forward computes them at every position.
// * MLA decodes with the weight-absorbed path (attention_mla.py): scores and values over the kvRank-wide
//   latent; prefill and training decompress K and V (the naive path).
// * Training = forward + backward, where backward costs, per matmul, one input-gradient product where a
//   gradient must flow to its input (something trainable lies upstream) and one weight-gradient product
//   where its weight trains. Full training is the usual 3× forward; PEFT is less (frozen weights get no
//   weight gradient, and layers before the first trainable one no backward at all).
// * Each matmul is counted at the dtype that computes it (int8 and fp8 kernels only where quant.py
//   uses them; attention and dequantising paths in the compute dtype), so the peak MFU divides by is
//   the one the work ran at (effectivePeak).
// * Floors are rooflines per phase: max(FLOPs ÷ peak, bytes ÷ memory bandwidth) for the prefill and
//   for each decode step, summed, because the phases run one after another. The bytes are the
//   unavoidable traffic only (weights, the embedding rows gathered, KV cache, optimizer state);
//   activations are assumed to stay on chip, so a floor is a lower bound that no real run reaches.
import type {
  AttentionKind,
  ModelShape,
  MoeSpec,
  NsaOptions,
  PeftSpec,
  Precision,
  ProfileConfig,
  VisionSpec,
  Workload,
} from './config';
// Image models (ViT, DiT) are counted in estimateVision.ts; the hooks below hand them over.
import * as vision from './estimateVision';
import type { GpuSpec } from './gpus';

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
  /** An image model (config.ts VisionSpec), counted by estimateVision.ts; absent for text. */
  vision?: VisionSpec;
  /**
   * MLA decode steps attend in the latent space (the harness's attention_mla.py absorbs kv_b into the
   * query and output); absent or false: K and V are decompressed (Hugging Face's DeepSeek code).
   */
  mlaAbsorbedDecode?: boolean;
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
  /** Lives in the decoder layers (not lm_head). */
  perLayer: boolean;
  /** Where it sits in a layer, for the gradient walk of training (trainStepFlops). */
  role: LinearRole;
  /** Which layers hold it: every layer, the dense-MLP ones, the MoE ones, or none (lm_head). */
  layers: 'all' | 'dense' | 'moe' | 'none';
}

/**
 * attnIn: reads the normed residual and feeds queries/keys/values (q, k, v, c_attn, q_a, kv_a, the NSA
 * gate); mlaQ / mlaKv: MLA's q_b and kv_b, which read q_a's and kv_a's normed output; attnOut: o;
 * ffnIn: gate and up (of the dense MLP, an expert or a shared expert); ffnOut: down; router; head.
 */
type LinearRole = 'attnIn' | 'mlaQ' | 'mlaKv' | 'attnOut' | 'ffnIn' | 'ffnOut' | 'router' | 'head';

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
        role: 'attnIn',
        layers: 'all',
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
    // HF GPT-2's layers are Conv1D, not nn.Linear: the harness's quant.py and peft.py act on
    // nn.Linear only, so these stay unquantised and no PEFT target reaches them.
    const conv1d = { quantized: false };
    add('c_attn', [], 3 * h, h, L, L, conv1d);
    add('attn.c_proj', [], h, h, L, L, { ...conv1d, role: 'attnOut' });
    add('c_fc', [], s.ffn, h, L, L, { ...conv1d, role: 'ffnIn' });
    add('mlp.c_proj', [], h, s.ffn, L, L, { ...conv1d, role: 'ffnOut' });
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
      add('q_b', ['q'], s.heads * qk, m.qRank, L, L, { role: 'mlaQ' });
    } else {
      add('q', ['q'], s.heads * qk, h, L);
    }
    add('kv_a', ['k', 'v'], m.kvRank + m.ropeDim, h, L);
    small += L * m.kvRank; // kv_a_layernorm
    add('kv_b', ['k', 'v'], s.heads * (m.qkNopeDim + m.vHeadDim), m.kvRank, L, L, { role: 'mlaKv' });
    add('o', ['o'], h, s.heads * m.vHeadDim, L, L, { role: 'attnOut' });
  } else {
    add('q', ['q'], s.heads * s.headDim, h, L);
    add('k', ['k'], s.kvHeads * s.headDim, h, L);
    add('v', ['v'], s.kvHeads * s.headDim, h, L);
    add('o', ['o'], h, s.heads * s.headDim, L, L, { role: 'attnOut' });
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
  const dense = { layers: 'dense' } as const;
  add('gate', ['gate'], s.ffn, h, denseLayers, denseLayers, { ...dense, role: 'ffnIn' });
  add('up', ['up'], s.ffn, h, denseLayers, denseLayers, { ...dense, role: 'ffnIn' });
  add('down', ['down'], h, s.ffn, denseLayers, denseLayers, { ...dense, role: 'ffnOut' });
  if (a.moe && moeLayers > 0) {
    const e = a.moe;
    const f = e.expertFfn;
    const routed = { routed: true, layers: 'moe' } as const;
    const shared = { layers: 'moe' } as const;
    add('expert.gate', ['gate'], f, h, moeLayers * e.experts, moeLayers * e.topK, { ...routed, role: 'ffnIn' });
    add('expert.up', ['up'], f, h, moeLayers * e.experts, moeLayers * e.topK, { ...routed, role: 'ffnIn' });
    add('expert.down', ['down'], h, f, moeLayers * e.experts, moeLayers * e.topK, { ...routed, role: 'ffnOut' });
    add('shared.gate', ['gate'], f, h, moeLayers * e.shared, moeLayers * e.shared, { ...shared, role: 'ffnIn' });
    add('shared.up', ['up'], f, h, moeLayers * e.shared, moeLayers * e.shared, { ...shared, role: 'ffnIn' });
    add('shared.down', ['down'], h, f, moeLayers * e.shared, moeLayers * e.shared, { ...shared, role: 'ffnOut' });
    // The router stays unquantized: quantization recipes skip it (tiny, and routing is sensitive to it).
    add('router', ['router'], e.experts, h, moeLayers, moeLayers, { quantized: false, role: 'router', layers: 'moe' });
    if (e.routerBias) small += moeLayers * e.experts;
  }
  // An untied lm_head is a linear outside the decoder layers. Quantized like the rest (see
  // weightBytesOf: the harness's quant.py quantizes lm_head and the embedding too).
  if (!a.tiedEmbeddings)
    add('lm_head', ['lm_head'], s.vocab, h, 1, 1, { perLayer: false, role: 'head', layers: 'none' });
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
  if (vision.isVisionArch(a)) return vision.visionParams(a);
  const b = breakdown(a);
  return b.embedding + b.small + sum(b.linears.map((g) => g.out * g.in * g.count));
}

/**
 * Parameters a token uses: everything except the routed experts it is not sent to. Dense models:
 * equal to countParams. The embedding table is included (Mixtral's "12.9B active" convention); see
 * activeMatmulParams for the count without it.
 */
export function countActiveParams(a: ModelArch): number {
  if (vision.isVisionArch(a)) return vision.visionActiveParams(a);
  const b = breakdown(a);
  return b.embedding + b.small + sum(b.linears.map((g) => g.out * g.in * g.activeCount));
}

/**
 * Weights a token multiplies by: active linears plus lm_head (even when tied), without the embedding
 * gather. FLOPs per token are 2× this plus attention. DeepSeek's "activated" figures use about this count.
 */
export function activeMatmulParams(a: ModelArch): number {
  if (vision.isVisionArch(a)) return vision.visionActiveMatmulParams(a);
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

/** Rows of the embedding tables a step gathers: token rows (one per token) and GPT-2 position rows. */
interface Gathered {
  tokens: number;
  positions: number;
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
 * With `gathered`, the bytes a step reads: an untied embedding is a gather of its rows, not a read of
 * the table (a tied one is read whole by lm_head anyway).
 */
function weightBytesOf(b: Breakdown, a: ModelArch, p: Precision, expertsTouched?: number, gathered?: Gathered): number {
  const s = a.shape;
  const tokenTable = s.vocab * s.hidden;
  const positionTable = b.embedding - tokenTable;
  const gather = gathered !== undefined && !a.tiedEmbeddings;
  const tokenRows = gather ? Math.min(s.vocab, gathered.tokens) : s.vocab;
  const positionBytes = gather
    ? Math.min(a.positions, gathered.positions) * s.hidden * plainBytes(p)
    : positionTable * plainBytes(p);
  let bytes = positionBytes + b.small * plainBytes(p) + linearBytes(tokenRows, s.hidden, p);
  for (const g of b.linears) {
    let n = g.count;
    if (g.routed && a.moe && expertsTouched !== undefined)
      n = (g.count / a.moe.experts) * Math.min(a.moe.experts, expertsTouched);
    bytes += n * (g.quantized ? linearBytes(g.out, g.in, p) : plainBytes(p) * g.out * g.in);
  }
  return bytes;
}

export function weightBytes(a: ModelArch, p: Precision): number {
  if (vision.isVisionArch(a)) return vision.visionWeightBytes(a, p);
  return weightBytesOf(breakdown(a), a, p);
}

/**
 * KV-cache element size: the cache is in the compute dtype. int8/int4/fp8 are weight-only schemes, so
 * their cache is bf16 (2 bytes) on CUDA and fp32 (4 bytes) on a CPU, where quant.py computes in fp32;
 * fp32 runs cache in fp32.
 */
export function kvElementBytes(p: Precision, device: DeviceKind = 'cuda'): number {
  return computeDtype(p, device) === 'fp32' ? 4 : 2;
}

/**
 * Bytes of KV cache per token of context (all layers). MHA/GQA/MQA: K and V of kvHeads heads. MLA: the
 * compressed latent plus the shared RoPE key. NSA: as GQA — its keys/values for the selected and
 * window branches are the full cache; the compressed-block keys (1/block of it) are left out.
 */
export function kvBytesPerToken(a: ModelArch, p: Precision, device: DeviceKind = 'cuda'): number {
  if (vision.isVisionArch(a)) return 0; // no KV cache: an image is one forward pass
  const s = a.shape;
  const e = kvElementBytes(p, device);
  if (a.family === 'decoder' && a.attention === 'mla') {
    const m = a.mla ?? defaultMla(s);
    return (m.kvRank + m.ropeDim) * s.layers * e;
  }
  return 2 * s.layers * s.kvHeads * s.headDim * e;
}

// ---- FLOPs, by the dtype that computes them ----

/** The dtype of the kernel a matmul runs in, which decides the peak it is measured against. */
export type ComputeDtype = 'fp32' | 'bf16' | 'fp16' | 'int8' | 'fp8';

/** FLOPs split by the dtype of the kernel that computes them. */
export type Work = Partial<Record<ComputeDtype, number>>;

/**
 * Where the work runs. On CUDA the harness's quant.py uses torch's int8 (`_int_mm`) and fp8
 * (`_scaled_mm`) kernels where it can and computes everything else in bf16; on a CPU every matmul of a
 * quantised model is dequantised and runs in fp32.
 */
export type DeviceKind = 'cuda' | 'cpu';

export function totalWork(w: Work): number {
  let n = 0;
  for (const v of Object.values(w)) n += v ?? 0;
  return n;
}

function addWork(w: Work, d: ComputeDtype, flops: number): void {
  if (flops > 0) w[d] = (w[d] ?? 0) + flops;
}

function mergeWork(into: Work, from: Work): Work {
  for (const [d, v] of Object.entries(from) as [ComputeDtype, number][]) addWork(into, d, v);
  return into;
}

/** The activation dtype (quant.compute_dtype): int8/int4/fp8 compute in bf16 on CUDA, fp32 on a CPU. */
export function computeDtype(p: Precision, device: DeviceKind): ComputeDtype {
  if (p === 'fp32' || p === 'bf16' || p === 'fp16') return p;
  return device === 'cuda' ? 'bf16' : 'fp32';
}

/**
 * The dtype one call of a linear runs in, as QuantLinear.forward picks its kernel: int8's `_int_mm`
 * for more than 16 rows and in/out multiples of 8, fp8's `_scaled_mm` for in/out multiples of 16, and
 * neither when a gradient must flow (training dequantises) or the weight is shared with a tied
 * embedding. int4's tinygemm multiplies bf16 activations by dequantised weights: bf16.
 */
function linearDtype(
  quantized: boolean,
  out: number,
  inF: number,
  rows: number,
  p: Precision,
  device: DeviceKind,
  grad: boolean,
): ComputeDtype {
  const c = computeDtype(p, device);
  if (device !== 'cuda' || grad || !quantized) return c;
  if (p === 'int8' && rows > 16 && inF % 8 === 0 && out % 8 === 0) return 'int8';
  if (p === 'fp8' && inF % 16 === 0 && out % 16 === 0) return 'fp8';
  return c;
}

/** Widths of the score (q·k) and value sums per head, for the decompressed (naive) form. */
function attentionDims(a: ModelArch): { qk: number; v: number } {
  if (a.family === 'decoder' && a.attention === 'mla') {
    const m = a.mla ?? defaultMla(a.shape);
    return { qk: m.qkNopeDim + m.ropeDim, v: m.vHeadDim };
  }
  return { qk: a.shape.headDim, v: a.shape.headDim };
}

const isNsa = (a: ModelArch): a is ModelArch & { nsa: NsaOptions } => a.attention === 'nsa' && a.nsa !== null;

/**
 * Keys the query at absolute position p (0-based; it sees positions 0..p) attends to, summed over the
 * three NSA branches as attention_nsa.py runs them: compressed, one mean key per block that has ended
 * (⌊(p+1)/block⌋); selected, the query's own block up to itself plus the `selected − 1` best earlier
 * blocks, whole; window, the last `window` positions.
 */
function nsaKeys(n: NsaOptions, p: number): number {
  const own = Math.floor(p / n.block);
  const compressed = Math.floor((p + 1) / n.block);
  const selected = (p % n.block) + 1 + Math.min(n.selected - 1, own) * n.block;
  return compressed + selected + Math.min(p + 1, n.window);
}

/** Query–key pairs of a causal sequence of length L: L(L+1)/2 for dense attention (the unmasked half). */
function causalPairs(a: ModelArch, L: number): number {
  if (isNsa(a)) {
    let n = 0;
    for (let p = 0; p < L; p++) n += nsaKeys(a.nsa, p);
    return n;
  }
  return (L * (L + 1)) / 2;
}

/** Keys one new token attends to at context c (itself included, so it sits at position c − 1). */
function keysAt(a: ModelArch, c: number): number {
  return isNsa(a) ? nsaKeys(a.nsa, c - 1) : c;
}

/** Score and value FLOPs of one (query, key) pair in one layer, summed over the heads. */
function pairFlops(a: ModelArch, decode: boolean): { scores: number; values: number } {
  const h = a.shape.heads;
  if (decode && a.family === 'decoder' && a.attention === 'mla' && a.mlaAbsorbedDecode) {
    // Absorbed (attention_mla.py): scores q_lat·c_kv (kvRank wide) + q_pe·k_pe, values over c_kv;
    // the W_uk / W_uv products are per query, as wide as kv_b, and counted as kv_b.
    const m = a.mla ?? defaultMla(a.shape);
    return { scores: 2 * h * (m.kvRank + m.ropeDim), values: 2 * h * m.kvRank };
  }
  const d = attentionDims(a);
  return { scores: 2 * h * d.qk, values: 2 * h * d.v };
}

/** Attention FLOPs (scores and weighted values, all layers) of a batch of causal sequences of length L. */
function attentionForward(a: ModelArch, batch: number, L: number): number {
  const f = pairFlops(a, false);
  return batch * a.shape.layers * (f.scores + f.values) * causalPairs(a, L);
}

/**
 * Forward work of the linears: `rows` tokens through the decoder layers, `headRows` of them through
 * lm_head (prefill and decode: the last position of each sequence; training: all).
 */
function linearForward(
  b: Breakdown,
  a: ModelArch,
  p: Precision,
  device: DeviceKind,
  rows: number,
  headRows: number,
  phase: 'prefill' | 'decode' | 'train',
): Work {
  const w: Work = {};
  const grad = phase === 'train';
  const absorbed = phase === 'decode' && a.attention === 'mla' && a.mlaAbsorbedDecode === true;
  for (const g of b.linears) {
    const r = g.role === 'head' ? headRows : rows;
    // An expert is called on its share of the rows; the kernel choice is per call.
    const callRows = g.routed && a.moe ? (r * a.moe.topK) / a.moe.experts : r;
    const d =
      absorbed && g.name === 'kv_b'
        ? computeDtype(p, device) // einsums with the dequantised kv_b weight
        : linearDtype(g.quantized, g.out, g.in, callRows, p, device, grad);
    addWork(w, d, 2 * g.out * g.in * g.activeCount * r);
  }
  // A tied lm_head multiplies by the embedding table, which keeps the plain layout (no kernels).
  if (a.tiedEmbeddings) addWork(w, computeDtype(p, device), 2 * b.lmHeadMatmul * headRows);
  return w;
}

/** Work of a prefill: batch×L tokens through the layers, logits at the last position only (last_only=True). */
function prefillWork(b: Breakdown, a: ModelArch, p: Precision, device: DeviceKind, batch: number, L: number): Work {
  const w = linearForward(b, a, p, device, batch * L, batch, 'prefill');
  addWork(w, computeDtype(p, device), attentionForward(a, batch, L));
  return w;
}

/** Work of one decode step: `batch` new tokens, each attending to `context` keys (itself included). */
function decodeWork(b: Breakdown, a: ModelArch, p: Precision, device: DeviceKind, batch: number, c: number): Work {
  const w = linearForward(b, a, p, device, batch, batch, 'decode');
  const f = pairFlops(a, true);
  addWork(w, computeDtype(p, device), batch * a.shape.layers * (f.scores + f.values) * keysAt(a, c));
  return w;
}

/** Forward FLOPs of a prefill: batch×L tokens, logits at the last position of each sequence. */
export function prefillFlops(a: ModelArch, batch: number, L: number): number {
  return totalWork(prefillWork(breakdown(a), a, 'bf16', 'cuda', batch, L));
}

/** Forward FLOPs of a training forward: batch×L tokens, logits at every position. */
export function forwardFlops(a: ModelArch, batch: number, L: number): number {
  return (
    totalWork(linearForward(breakdown(a), a, 'bf16', 'cuda', batch * L, batch * L, 'train')) +
    attentionForward(a, batch, L)
  );
}

/** Forward FLOPs of one decode step: `batch` new tokens, each attending to `context` keys (itself included). */
export function decodeStepFlops(a: ModelArch, batch: number, context: number): number {
  return totalWork(decodeWork(breakdown(a), a, 'bf16', 'cuda', batch, context));
}

/** Forward FLOPs per token of a causal sequence of `context` tokens, logits at every position. */
export function flopsPerToken(a: ModelArch, context: number): number {
  return forwardFlops(a, 1, context) / Math.max(1, context);
}

// ---- training: the gradient walk ----

function isMoeLayer(i: number, moe: MoeLayout | null): boolean {
  return moe !== null && i >= moe.firstDense && i % moe.layerFreq === 0;
}

/** How many layers hold a group's matrices (its count is spread evenly over them). */
function layersOf(g: LinearGroup, a: ModelArch, moeLayers: number): number {
  if (g.layers === 'none') return 1;
  if (g.layers === 'moe') return moeLayers;
  if (g.layers === 'dense') return a.shape.layers - moeLayers;
  return a.shape.layers;
}

const ADAPTER_METHODS: readonly string[] = ['lora', 'rslora', 'dora'];

/** The group is one that peft.py wraps in an adapter (targeted_linears; GPT-2's Conv1D never is). */
function adapted(g: LinearGroup, peft: PeftSpec | null): boolean {
  if (!peft || !ADAPTER_METHODS.includes(peft.method)) return false;
  return g.targets.some((t) => peft.targets.includes(t));
}

/**
 * Work of one training step (forward + backward; the AdamW update is elementwise). Forward as the
 * harness runs it, logits at every position. Backward, per matmul y = x·Wᵀ of forward cost F: F for
 * the input gradient where x requires a gradient (a trainable parameter lies upstream of it), F for
 * the weight gradient where W trains — autograd computes exactly these. Attention: dQ and dK each cost
 * the scores' FLOPs where Q (K) requires a gradient, dP and dV the values' FLOPs where P (V) does.
 * Adapters (peft.py's LoraLinear): A (rank×in) and B (out×rank) train; DoRA also recomputes its
 * weight norm ‖W + s·B·A‖ per call, an out×rank×in product in fp32 without gradient.
 * Freeze: layers from L − rank train whole (norms too); full and pretrain: everything, 3× forward.
 */
function trainStepWork(
  b: Breakdown,
  a: ModelArch,
  p: Precision,
  device: DeviceKind,
  stage: ProfileConfig['stage'],
  peft: PeftSpec | null,
  batch: number,
  L: number,
): Work {
  const c = computeDtype(p, device);
  const N = batch * L;
  const method = stage === 'pretrain' || !peft ? 'full' : peft.method;
  const full = method === 'full';
  const usePeft = full ? null : peft;
  const rank = usePeft?.rank ?? 0;
  const layers = a.shape.layers;
  const freezeFrom = method === 'freeze' ? layers - Math.min(layers, rank) : full ? 0 : layers;
  const moeLayers = b.moeLayers;
  const w: Work = {};

  /** One group's matmuls in one layer (or lm_head); returns whether its output requires a gradient. */
  const mm = (g: LinearGroup, inRg: boolean, trains: boolean): boolean => {
    const per = g.activeCount / layersOf(g, a, moeLayers); // matrices a token passes here
    const f = 2 * g.out * g.in * per * N;
    addWork(w, c, f + (inRg ? f : 0) + (trains ? f : 0));
    if (!adapted(g, usePeft)) return inRg || trains;
    const fa = 2 * g.in * rank * per * N;
    const fb = 2 * rank * g.out * per * N;
    addWork(w, c, fa + (inRg ? fa : 0) + fa + 3 * fb);
    if (usePeft?.method === 'dora') addWork(w, 'fp32', 2 * g.out * rank * g.in * (g.count / layersOf(g, a, moeLayers)));
    return true;
  };
  const attention = (q: boolean, k: boolean, v: boolean): boolean => {
    const pf = pairFlops(a, false);
    const pairs = batch * causalPairs(a, L);
    const fs = pf.scores * pairs;
    const fv = pf.values * pairs;
    addWork(w, c, fs + fv + fs * ((q ? 1 : 0) + (k ? 1 : 0)) + fv * ((q || k ? 1 : 0) + (v ? 1 : 0)));
    return q || k || v;
  };

  let resid = full; // the embedding trains only in full training
  for (let i = 0; i < layers; i++) {
    const trains = i >= freezeFrom;
    const moe = isMoeLayer(i, a.moe);
    const here = b.linears.filter(
      (g) => g.layers === 'all' || (g.layers === 'moe' && moe) || (g.layers === 'dense' && !moe),
    );
    const by = (name: string): LinearGroup | undefined => here.find((g) => g.name === name);
    const run = (name: string, inRg: boolean): boolean => {
      const g = by(name);
      return g ? mm(g, inRg, trains) : false;
    };
    // Attention block.
    const h = resid || trains;
    let q: boolean;
    let k: boolean;
    let v: boolean;
    let mix = false;
    if (a.family === 'gpt2') {
      q = k = v = run('c_attn', h);
    } else if (a.attention === 'mla') {
      q = by('q_a') ? run('q_b', run('q_a', h) || trains) : run('q', h);
      const kva = run('kv_a', h);
      const kvb = run('kv_b', kva || trains);
      k = kva || kvb;
      v = kvb;
    } else {
      q = run('q', h);
      k = run('k', h);
      v = run('v', h);
      mix = run('nsa_gate', h);
    }
    const att = attention(q, k, v) || mix;
    resid = run(a.family === 'gpt2' ? 'attn.c_proj' : 'o', att) || resid;
    // Feed-forward block.
    const h2 = resid || trains;
    let ffn: boolean;
    if (a.family === 'gpt2') {
      ffn = run('mlp.c_proj', run('c_fc', h2));
    } else if (moe) {
      const router = run('router', h2);
      const expertIn = [run('expert.gate', h2), run('expert.up', h2)].some(Boolean);
      const expert = run('expert.down', expertIn);
      const sharedIn = [run('shared.gate', h2), run('shared.up', h2)].some(Boolean);
      const shared = run('shared.down', sharedIn);
      ffn = expert || router || shared;
    } else {
      const act = [run('gate', h2), run('up', h2)].some(Boolean);
      ffn = run('down', act);
    }
    resid = ffn || resid;
  }
  // Final norm and lm_head (the final norm and the embedding train only in full training).
  const headIn = resid || full;
  const head = b.linears.find((g) => g.role === 'head');
  if (head) mm(head, headIn, full);
  else {
    const f = 2 * b.lmHeadMatmul * N;
    addWork(w, c, f + (headIn ? f : 0) + (full ? f : 0));
  }
  return w;
}

/** FLOPs of one training step (forward + backward) for the stage's PEFT method; see trainStepWork. */
export function trainStepFlops(
  a: ModelArch,
  stage: ProfileConfig['stage'],
  peft: PeftSpec | null,
  batch: number,
  L: number,
): number {
  return totalWork(
    trainStepWork(breakdown(a), a, 'bf16', 'cuda', stage === 'inference' ? 'pretrain' : stage, peft, batch, L),
  );
}

// ---- trainable parameters ----

/**
 * Parameters the optimizer updates. full/pretrain: all. lora/rslora: rank×(in+out) per targeted
 * matrix; dora adds a magnitude vector (out) per matrix. freeze: the last `rank` decoder layers train
 * whole (linears, experts, router, their norms and biases), counted layer by layer (a dense first
 * layer of a MoE model is smaller than the rest); embedding, final norm and lm_head stay frozen
 * (LLaMA-Factory's freeze tuning; the harness's peft.py does the same).
 */
export function trainableParams(a: ModelArch, stage: ProfileConfig['stage'], peft: PeftSpec | null): number {
  if (vision.isVisionArch(a)) return vision.visionTrainableParams(a, stage, peft);
  if (stage === 'inference') return 0;
  if (stage === 'pretrain' || !peft || peft.method === 'full') return countParams(a);
  const b = breakdown(a);
  if (peft.method === 'freeze') {
    const L = a.shape.layers;
    const finalNorm = a.family === 'gpt2' ? 2 * a.shape.hidden : a.shape.hidden;
    const routerBias = a.moe?.routerBias ? b.moeLayers * a.moe.experts : 0;
    const smallPerLayer = (b.small - finalNorm - routerBias) / L;
    let n = 0;
    for (let i = L - Math.min(L, peft.rank); i < L; i++) {
      const moe = isMoeLayer(i, a.moe);
      n += smallPerLayer + (moe && routerBias > 0 ? routerBias / b.moeLayers : 0);
      for (const g of b.linears) {
        if (g.layers === 'none' || (g.layers === 'moe' && !moe) || (g.layers === 'dense' && moe)) continue;
        n += (g.out * g.in * g.count) / layersOf(g, a, b.moeLayers);
      }
    }
    return Math.round(n);
  }
  let n = 0;
  for (const g of b.linears) {
    if (!adapted(g, peft)) continue;
    n += g.count * (peft.rank * (g.in + g.out) + (peft.method === 'dora' ? g.out : 0));
  }
  return n;
}

// ---- peaks and floors ----

/** The peak MFU divides by: FLOPs ÷ their time at each dtype's peak, and the dtypes it blends. */
export interface PeakUsed {
  flopsPerS: number;
  /** "bf16", or the blend, e.g. "int8 71% + bf16 29%" (shares of the FLOPs). */
  dtype: string;
}

function peakOf(gpu: GpuSpec, d: ComputeDtype): number | null {
  return gpu.peakFlops[d];
}

/** Seconds the work takes at the peaks of its dtypes; null when one of them has no known peak. */
function computeTime(w: Work, gpu: GpuSpec): number | null {
  let t = 0;
  for (const [d, f] of Object.entries(w) as [ComputeDtype, number][]) {
    const peak = peakOf(gpu, d);
    if (peak === null || peak <= 0) return null;
    t += f / peak;
  }
  return t;
}

/**
 * The single peak that takes the work as long as its dtypes' peaks do (ΣF ÷ Σ F_d/P_d), so MFU =
 * achieved ÷ this is the share of the hardware the run used. Null when a dtype's peak is unknown.
 */
export function effectivePeak(w: Work, gpu: GpuSpec): PeakUsed | null {
  const total = totalWork(w);
  const t = computeTime(w, gpu);
  if (t === null || t <= 0 || total <= 0) return null;
  const parts = (Object.entries(w) as [ComputeDtype, number][]).sort((x, y) => y[1] - x[1]);
  // One dtype: its own peak, exactly (no rounding through the blend).
  if (parts.length === 1) return { flopsPerS: peakOf(gpu, parts[0][0]) ?? total / t, dtype: parts[0][0] };
  const dtype =
    parts.length === 1 ? parts[0][0] : parts.map(([d, f]) => `${d} ${Math.round((100 * f) / total)}%`).join(' + ');
  return { flopsPerS: total / t, dtype };
}

function floor(w: Work, bytes: number, gpu: GpuSpec): number | null {
  const t = computeTime(w, gpu);
  if (t === null || gpu.bandwidthBytesPerS === null) return null;
  return Math.max(t, bytes / gpu.bandwidthBytesPerS);
}

/** Weights a forward over `tokens` tokens reads: routed experts as many as they can reach, embedding rows gathered. */
function forwardWeightBytes(b: Breakdown, a: ModelArch, p: Precision, tokens: number, positions: number): number {
  return weightBytesOf(b, a, p, a.moe ? tokens * a.moe.topK : undefined, { tokens, positions });
}

/**
 * Bytes a training step must move (approximation): weights read once; for each trainable parameter
 * the weight written, its gradient written and read, and AdamW's two moments read and written, all in
 * the weights' dtype as the harness keeps them. Activations, their recomputation and the frozen
 * weights' second read in backward are ignored.
 */
function trainStepBytes(a: ModelArch, p: Precision, trainable: number): number {
  const e = plainBytes(p);
  return weightBytes(a, p) + trainable * (e + 2 * e + 2 * 2 * e);
}

interface Phase {
  work: Work;
  bytes: number;
}

/** The prefill as the harness runs it: weights, the embedding rows of the prompt, the KV cache written. */
function prefillPhase(b: Breakdown, a: ModelArch, p: Precision, device: DeviceKind, batch: number, L: number): Phase {
  return {
    work: prefillWork(b, a, p, device, batch, L),
    bytes: forwardWeightBytes(b, a, p, batch * L, L) + batch * L * kvBytesPerToken(a, p, device),
  };
}

/**
 * Decode step j (1 ≤ j < newTokens): the token at position L + j − 1 attends to L + j keys and reads
 * them all from the cache (NSA too: the harness pools its compressed blocks from the cached K and V
 * each step, so the whole cache is read once).
 */
function decodePhase(b: Breakdown, a: ModelArch, p: Precision, device: DeviceKind, batch: number, c: number): Phase {
  return {
    work: decodeWork(b, a, p, device, batch, c),
    bytes: forwardWeightBytes(b, a, p, batch, 1) + batch * c * kvBytesPerToken(a, p, device),
  };
}

type IterationWorkload = Pick<Workload, 'batch' | 'seqLen' | 'newTokens'>;

/** Phases of one measured harness iteration: inference is a prefill then newTokens − 1 decode steps. */
function iterationPhases(
  a: ModelArch,
  stage: ProfileConfig['stage'],
  peft: PeftSpec | null,
  p: Precision,
  w: IterationWorkload,
  device: DeviceKind,
): Phase[] {
  const b = breakdown(a);
  if (stage === 'inference') {
    const phases = [prefillPhase(b, a, p, device, w.batch, w.seqLen)];
    for (let j = 1; j < w.newTokens; j++) phases.push(decodePhase(b, a, p, device, w.batch, w.seqLen + j));
    return phases;
  }
  return [
    {
      work: trainStepWork(b, a, p, device, stage, peft, w.batch, w.seqLen),
      bytes: trainStepBytes(a, p, trainableParams(a, stage, peft)),
    },
  ];
}

/** Phases run one after another, so the floor is the sum of each phase's roofline (null if one is unknown). */
function phasesFloor(phases: readonly Phase[], gpu: GpuSpec): number | null {
  let t = 0;
  for (const ph of phases) {
    const f = floor(ph.work, ph.bytes, gpu);
    if (f === null) return null;
    t += f;
  }
  return t;
}

// ---- ProfileConfig entry points ----

/**
 * The estimator's view of a synthetic ProfileConfig. MLA uses qkNope = vHead = headDim and decodes in
 * the latent space; synthetic MoE replaces every layer's MLP with experts of width shape.ffn (shared
 * ones too); embeddings are untied and there are no biases. Returns null for an `hf` model, whose
 * shape lives in its config.json (parse it with hfConfig.ts and pass the result where an arch is accepted).
 */
export function archFromConfig(cfg: ProfileConfig): ModelArch | null {
  const image = vision.visionArchFromConfig(cfg);
  if (image) return image;
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
    mlaAbsorbedDecode: true,
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

/** One measured iteration against a device: its FLOPs, their split by dtype, the floor and the peak MFU divides by. */
export interface IterationAnalysis {
  flops: number;
  work: Work;
  /** Σ over phases of max(compute time at each dtype's peak, bytes ÷ bandwidth); null where a figure is unknown. */
  floorS: number | null;
  peak: PeakUsed | null;
}

export function analyseIteration(
  cfg: ProfileConfig,
  gpu: GpuSpec | null,
  device: DeviceKind = 'cuda',
  arch?: ModelArch,
): IterationAnalysis {
  const a = requireArch(cfg, arch);
  if (vision.isVisionArch(a)) return vision.visionAnalysis(a, cfg, gpu, device);
  const phases = iterationPhases(a, cfg.stage, cfg.peft, cfg.precision, cfg.workload, device);
  const work = phases.reduce<Work>((w, ph) => mergeWork(w, ph.work), {});
  return {
    flops: totalWork(work),
    work,
    floorS: gpu ? phasesFloor(phases, gpu) : null,
    peak: gpu ? effectivePeak(work, gpu) : null,
  };
}

/**
 * Model FLOPs of one measured harness iteration. inference: prefill of batch×seqLen tokens (logits at
 * the last position) + (newTokens − 1) decode steps of `batch` tokens each attending to its current
 * context. pretrain/finetune: forward + backward as trainStepWork walks it.
 */
export function iterationFlops(cfg: ProfileConfig, arch?: ModelArch): number {
  return analyseIteration(cfg, null, 'cuda', arch).flops;
}

/**
 * Roofline floor of one iteration: per phase max(compute time at the peaks of the dtypes that compute
 * it, bytes ÷ bandwidth), summed over the phases. Bytes — inference: weights read by the prefill and
 * again by every decode step (MoE: only the experts the step's tokens can reach; the embedding rows
 * gathered) + the KV cache written by the prefill and read by each decode step; training: see
 * trainStepBytes. Null when a needed peak or the bandwidth is unknown (CPU, A100 fp8).
 */
export function iterationFloorS(
  cfg: ProfileConfig,
  gpu: GpuSpec,
  arch?: ModelArch,
  device: DeviceKind = 'cuda',
): number | null {
  return analyseIteration(cfg, gpu, device, arch).floorS;
}

// ---- the `estimate` command's summary ----

export interface EstimateOptions {
  precision: Precision;
  batch: number;
  seqLen: number;
  gpu: GpuSpec | null;
  /** Tokens generated per request, the first from the prefill (default 32, the profile default). */
  newTokens?: number;
  /** PEFT of the training step; null or absent = full training. */
  peft?: PeftSpec | null;
}

export interface Floors {
  /** Prefill of batch×seqLen tokens (time to first token). */
  prefillS: number | null;
  /** One decode step (one new token for each of the batch's sequences) at context seqLen + 1. */
  decodePerTokenS: number | null;
  /** The newTokens − 1 decode steps after the prefill, each at its own context, summed (estimateModel always sets it). */
  decodeS?: number | null;
  /** One inference request as the harness runs it: prefillS + decodeS (estimateModel always sets it). */
  inferenceS?: number | null;
  /** One training step (forward + backward + AdamW update) on batch×seqLen tokens. */
  trainStepS: number | null;
}

export interface PhaseFlops {
  /** The prefill: batch×seqLen tokens, logits at the last position. */
  prefill: number;
  /** The newTokens − 1 decode steps after the prefill, as the harness runs them. */
  decode: number;
  /** One training step for the PEFT method (full training when none). */
  trainStep: number;
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
  /** FLOPs per phase (estimateModel always sets it; optional for summaries of other model kinds). */
  flops?: PhaseFlops;
  floors: Floors;
}

export function estimateModel(a: ModelArch, o: EstimateOptions): ModelEstimate {
  if (vision.isVisionArch(a)) return vision.visionEstimate(a, o);
  const b = breakdown(a);
  const p = o.precision;
  const newTokens = o.newTokens ?? 32;
  const peft = o.peft ?? null;
  const stage = peft && peft.method !== 'full' ? 'finetune' : 'pretrain';
  const prefill = prefillPhase(b, a, p, 'cuda', o.batch, o.seqLen);
  const decode: Phase[] = [];
  for (let j = 1; j < newTokens; j++) decode.push(decodePhase(b, a, p, 'cuda', o.batch, o.seqLen + j));
  const train: Phase = {
    work: trainStepWork(b, a, p, 'cuda', stage, peft, o.batch, o.seqLen),
    bytes: trainStepBytes(a, p, trainableParams(a, stage, peft)),
  };
  let floors: Floors = { prefillS: null, decodePerTokenS: null, decodeS: null, inferenceS: null, trainStepS: null };
  if (o.gpu) {
    const g = o.gpu;
    const prefillS = floor(prefill.work, prefill.bytes, g);
    const decodeS = phasesFloor(decode, g);
    floors = {
      prefillS,
      decodePerTokenS: phasesFloor([decodePhase(b, a, p, 'cuda', o.batch, o.seqLen + 1)], g),
      decodeS,
      inferenceS: prefillS === null || decodeS === null ? null : prefillS + decodeS,
      trainStepS: floor(train.work, train.bytes, g),
    };
  }
  return {
    params: countParams(a),
    activeParams: countActiveParams(a),
    activeMatmulParams: activeMatmulParams(a),
    weightBytes: weightBytesOf(b, a, p),
    kvBytesPerToken: kvBytesPerToken(a, p),
    flopsPerToken: flopsPerToken(a, o.seqLen),
    flops: {
      prefill: totalWork(prefill.work),
      decode: sum(decode.map((d) => totalWork(d.work))),
      trainStep: totalWork(train.work),
    },
    floors,
  };
}
