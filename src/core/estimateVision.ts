// The analytic estimator for image models (issue 16): ViT and DiT parameters, weight bytes, FLOPs and
// floors, counted module by module as the harness builds them (src/harness/efficientllm_harness/
// model_vision.py), which follows the reference code: timm's VisionTransformer (vit_base_patch16_224:
// 86,567,656 parameters; the ViT paper's "86M") and the DiT paper's models.py (DiT-XL/2: 675,129,632;
// the paper's "675M"). estimate.ts hands a ModelArch with `vision` set to these functions.
//
// Conventions, where they differ from the text decoder's:
// * Attention is bidirectional: every one of an image's T tokens attends to all T, so a forward
//   counts T² query–key pairs per head and layer (a causal decoder counts T²/2).
// * Matmuls run per token (projections, MLP, DiT's final linear), per image (DiT's adaLN modulation
//   and timestep MLP, ViT's head on the class token) or per patch (the patch embedding, a strided
//   convolution counted as the matmul it is). Label and class-token lookups cost none.
// * DiT inference is `samplingSteps` forward passes of the batch; ViT inference one. Training is 3×
//   forward (backward = 2× forward) for full training; PEFT counts 2× forward (gradients still flow
//   through every frozen layer to the adapters) plus 3× the adapters' own matmuls.
// * DiT's published Gflops (118.6 for XL/2) are multiply-accumulates (fvcore), so our FLOPs are 2× them.
import type { PeftSpec, Precision, ProfileConfig, VisionSpec, Workload } from './config';
import { VAE_DOWNSAMPLE, visionTokens } from './config';
import type {
  DeviceKind,
  EstimateOptions,
  Floors,
  IterationAnalysis,
  ModelArch,
  ModelEstimate,
  Work,
} from './estimate';
import { computeDtype, effectivePeak, linearBytes, moeFromSpec } from './estimate';
import type { GpuSpec } from './gpus';

/** A ModelArch of an image model: the trunk's shape and techniques, and what it sees. */
export type VisionArch = ModelArch & { vision: VisionSpec };

export function isVisionArch(a: ModelArch): a is VisionArch {
  return (a as { vision?: VisionSpec }).vision !== undefined;
}

/**
 * The estimator's view of a synthetic image config, or null for a text one. MLA uses qkNope = vHead =
 * headDim (as the text decoder's synthetic MLA); MoE replaces every block's MLP with SwiGLU experts of
 * width shape.ffn (moe.py).
 */
export function visionArchFromConfig(cfg: ProfileConfig): VisionArch | null {
  if (cfg.model.source !== 'synthetic' || !cfg.model.vision) return null;
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
    nsa: null,
    moe: cfg.moe ? moeFromSpec(cfg.moe, shape.ffn) : null,
    tiedEmbeddings: false,
    qkvBias: true,
    positions: 0,
    vision: cfg.model.vision,
  };
}

/** DiT's timestep embedding: a 256-wide sinusoid fed to an MLP (frequency_embedding_size). */
export const DIT_FREQUENCY_DIM = 256;

/** One kind of weight matrix: its shape, how many the model holds, and the rows it multiplies per image. */
interface VisionLinear {
  name: string;
  /** PEFT target names that select it (the harness's layer names). */
  targets: readonly string[];
  out: number;
  in: number;
  count: number;
  /** Copies a token uses (MoE: topK of the experts). */
  activeCount: number;
  /** Rows multiplied per image forward by each used copy: tokens, 1 (per image) or patches. */
  rows: number;
  bias: boolean;
  /** An nn.Linear or nn.Embedding, which quant.py quantises; the patch convolution is neither. */
  quantized: boolean;
  /** A gather (embedding table): weights but no FLOPs. */
  gather: boolean;
}

interface VisionBreakdown {
  linears: VisionLinear[];
  /** Norm weights and biases, class token, position table: parameters outside any matrix. */
  small: number;
  /** Bidirectional attention FLOPs of one image's forward (scores and weighted values). */
  attentionFlops: number;
  tokens: number;
}

const spec = (a: VisionArch): VisionSpec => a.vision;

function visionBreakdown(a: VisionArch): VisionBreakdown {
  const v = spec(a);
  const s = a.shape;
  const h = s.hidden;
  const L = s.layers;
  const T = visionTokens(v);
  const patches = v.family === 'vit' ? T - 1 : T;
  const linears: VisionLinear[] = [];
  const add = (
    name: string,
    targets: readonly string[],
    out: number,
    inF: number,
    count: number,
    rows: number,
    extra: Partial<VisionLinear> = {},
  ): void => {
    if (count > 0)
      linears.push({
        name,
        targets,
        out,
        in: inF,
        count,
        activeCount: count,
        rows,
        bias: true,
        quantized: true,
        gather: false,
        ...extra,
      });
  };
  let small = 0;
  // Patch embedding: a Conv2d of kernel = stride = patch, with bias (timm PatchEmbed, DiT x_embedder).
  add('patch_embed', [], h, v.channels * v.patch * v.patch, 1, patches, { quantized: false });

  // Attention, as the shared attention classes build it: MHA/GQA/MQA with biases on q, k, v, o
  // (timm's qkv_bias=True and proj bias), MLA without biases (attention_mla.py).
  let qk = s.headDim;
  if (a.attention === 'mla') {
    const m = a.mla;
    if (!m) throw new Error('estimateVision: attention "mla" without its dimensions');
    qk = m.qkNopeDim + m.ropeDim;
    const noBias = { bias: false };
    if (m.qRank > 0) {
      add('q_a', ['q'], m.qRank, h, L, T, noBias);
      small += L * m.qRank; // q_norm (RMSNorm)
      add('q_b', ['q'], s.heads * qk, m.qRank, L, T, noBias);
    } else add('q', ['q'], s.heads * qk, h, L, T, noBias);
    add('kv_a', ['k', 'v'], m.kvRank + m.ropeDim, h, L, T, noBias);
    small += L * m.kvRank; // kv_norm (RMSNorm)
    add('kv_b', ['k', 'v'], s.heads * (m.qkNopeDim + m.vHeadDim), m.kvRank, L, T, noBias);
    add('o', ['o'], h, s.heads * m.vHeadDim, L, T, noBias);
  } else {
    add('q', ['q'], s.heads * s.headDim, h, L, T);
    add('k', ['k'], s.kvHeads * s.headDim, h, L, T);
    add('v', ['v'], s.kvHeads * s.headDim, h, L, T);
    add('o', ['o'], h, s.heads * s.headDim, L, T);
  }
  const vDim = a.attention === 'mla' && a.mla ? a.mla.vHeadDim : s.headDim;
  const attentionFlops = 2 * L * s.heads * (qk + vDim) * T * T;

  // Feed-forward: a GELU MLP up → down with biases (timm Mlp), or moe.py's experts (SwiGLU, no biases).
  if (a.moe) {
    const e = a.moe;
    const f = e.expertFfn;
    const noBias = { bias: false };
    add('router', ['router'], e.experts, h, L, T, { ...noBias, quantized: false });
    for (const [name, target, out, inF] of [
      ['gate', 'gate', f, h],
      ['up', 'up', f, h],
      ['down', 'down', h, f],
    ] as const) {
      add(`expert.${name}`, [target], out, inF, L * e.experts, T, { ...noBias, activeCount: L * e.topK });
      add(`shared.${name}`, [target], out, inF, L * e.shared, T, noBias);
    }
  } else {
    add('up', ['up'], s.ffn, h, L, T);
    add('down', ['down'], h, s.ffn, L, T);
  }

  if (v.family === 'vit') {
    small += L * 2 * (2 * h) + 2 * h; // LayerNorm weight + bias: norm1, norm2 per block, final norm
    small += h + T * h; // class token, learned position table (cls included)
    add('head', ['head'], s.vocab, h, 1, 1); // on the class token only
  } else {
    // DiT: LayerNorms without affine parameters; conditioning c = t_embedder(t) + y_embedder(y).
    add('t_embedder.0', [], h, DIT_FREQUENCY_DIM, 1, 1);
    add('t_embedder.2', [], h, h, 1, 1);
    // num_classes + 1: the null label of classifier-free guidance (class_dropout_prob 0.1).
    add('y_embedder', [], h, s.vocab + 1, 1, 1, { bias: false, gather: true });
    add('adaLN_modulation', [], 6 * h, h, L, 1); // shift, scale, gate of attention and MLP
    add('final.adaLN_modulation', [], 2 * h, h, 1, 1);
    const outChannels = v.channels * (v.learnSigma ? 2 : 1);
    add('final.linear', [], v.patch * v.patch * outChannels, h, 1, T);
    small += T * h; // the fixed 2-D sin-cos position table: a frozen Parameter in DiT's code, so counted
  }
  return { linears, small, attentionFlops, tokens: T };
}

const sum = (xs: readonly number[]): number => xs.reduce((x, y) => x + y, 0);
const matrixParams = (g: VisionLinear, n: number): number => n * (g.out * g.in + (g.bias ? g.out : 0));

/** As `sum(p.numel() for p in model.parameters())` counts the harness's model (and the reference code). */
export function visionParams(a: VisionArch): number {
  const b = visionBreakdown(a);
  return b.small + sum(b.linears.map((g) => matrixParams(g, g.count)));
}

/** Parameters an image's tokens use: all but the routed experts a token is not sent to. */
export function visionActiveParams(a: VisionArch): number {
  const b = visionBreakdown(a);
  return b.small + sum(b.linears.map((g) => matrixParams(g, g.activeCount)));
}

/** Weights multiplied in a forward (no gathered tables): what FLOPs are counted on. */
export function visionActiveMatmulParams(a: VisionArch): number {
  const b = visionBreakdown(a);
  return sum(b.linears.filter((g) => !g.gather).map((g) => g.activeCount * g.out * g.in));
}

/** Forward FLOPs of one image: every matmul's rows, plus bidirectional attention. */
export function visionForwardFlops(a: VisionArch): number {
  const b = visionBreakdown(a);
  const matmuls = sum(b.linears.filter((g) => !g.gather).map((g) => 2 * g.activeCount * g.out * g.in * g.rows));
  return matmuls + b.attentionFlops;
}

const plainBytes = (p: Precision): number => (p === 'fp32' ? 4 : 2);

/**
 * Weight bytes: fp32 4 and bf16/fp16 2 per parameter; under int8/int4/fp8 every nn.Linear and the
 * label table are stored as quant.py stores them (linearBytes), the rest (patch convolution, norms,
 * biases, tokens, positions, MoE router) in 16 bits.
 */
export function visionWeightBytes(a: VisionArch, p: Precision): number {
  const b = visionBreakdown(a);
  let bytes = b.small * plainBytes(p);
  for (const g of b.linears) {
    const matrix = g.quantized ? linearBytes(g.out, g.in, p) : plainBytes(p) * g.out * g.in;
    bytes += g.count * (matrix + (g.bias ? plainBytes(p) * g.out : 0));
  }
  return bytes;
}

/**
 * Parameters the optimizer updates. pretrain and full: all but DiT's frozen position table.
 * lora/rslora: rank × (in + out) per targeted matrix, dora also a magnitude vector per matrix.
 * freeze: the last `rank` blocks train whole.
 */
export function visionTrainableParams(a: VisionArch, stage: ProfileConfig['stage'], peft: PeftSpec | null): number {
  if (stage === 'inference') return 0;
  const v = spec(a);
  const frozenPositions = v.family === 'dit' ? visionTokens(v) * a.shape.hidden : 0;
  const all = visionParams(a) - frozenPositions;
  if (stage === 'pretrain' || !peft || peft.method === 'full') return all;
  const b = visionBreakdown(a);
  const L = a.shape.layers;
  if (peft.method === 'freeze') {
    const blockParams =
      sum(b.linears.filter((g) => g.count % L === 0 && blockLinear(g)).map((g) => matrixParams(g, g.count))) +
      (v.family === 'vit' ? L * 4 * a.shape.hidden : 0) +
      (a.attention === 'mla' && a.mla ? L * (a.mla.kvRank + a.mla.qRank) : 0);
    return (Math.min(L, peft.rank) * blockParams) / L;
  }
  let n = 0;
  for (const g of b.linears) {
    if (!g.targets.some((t) => peft.targets.includes(t)) && !peft.targets.includes(g.name)) continue;
    n += g.count * (peft.rank * (g.in + g.out) + (peft.method === 'dora' ? g.out : 0));
  }
  return n;
}

/** A matrix inside the blocks (not the embeddings, DiT's conditioning MLP, the head or final layer). */
function blockLinear(g: VisionLinear): boolean {
  return (
    !['patch_embed', 'head', 't_embedder.0', 't_embedder.2', 'y_embedder'].includes(g.name) &&
    !g.name.startsWith('final.')
  );
}

/** FLOPs of the adapters' matmuls in one image's forward (rank × (in + out) per targeted matrix and row). */
function adapterFlops(a: VisionArch, peft: PeftSpec): number {
  if (peft.method !== 'lora' && peft.method !== 'rslora' && peft.method !== 'dora') return 0;
  const b = visionBreakdown(a);
  let n = 0;
  for (const g of b.linears) {
    if (!g.targets.some((t) => peft.targets.includes(t)) && !peft.targets.includes(g.name)) continue;
    n += 2 * g.activeCount * g.rows * peft.rank * (g.in + g.out);
  }
  return n;
}

type VisionWorkload = Pick<Workload, 'batch' | 'samplingSteps'>;

/** Forward passes of one inference iteration: DiT's sampling steps, or one. */
export function forwardsPerInference(a: VisionArch, w: VisionWorkload): number {
  return spec(a).family === 'dit' ? (w.samplingSteps ?? 1) : 1;
}

/** FLOPs and unavoidable bytes of one measured harness iteration of an image model. */
export function visionIterationCost(
  a: VisionArch,
  stage: ProfileConfig['stage'],
  peft: PeftSpec | null,
  p: Precision,
  w: VisionWorkload,
): { flops: number; bytes: number } {
  const forward = w.batch * visionForwardFlops(a);
  if (stage === 'inference') {
    const n = forwardsPerInference(a, w);
    return { flops: n * forward, bytes: n * visionWeightBytes(a, p) };
  }
  const trainable = visionTrainableParams(a, stage, peft);
  const e = plainBytes(p);
  const bytes = visionWeightBytes(a, p) + trainable * (e + 2 * e + 2 * 2 * 4);
  if (stage === 'finetune' && peft && peft.method !== 'full')
    return { flops: 2 * forward + 3 * w.batch * adapterFlops(a, peft), bytes };
  return { flops: 3 * forward, bytes };
}

/**
 * The work of an image model, all at the activation dtype (computeDtype): int8 and fp8 kernels are not
 * split out per matmul for images, so a quantised run's MFU divides by the bf16 peak.
 */
function workOf(flops: number, p: Precision, device: DeviceKind): Work {
  return { [computeDtype(p, device)]: flops };
}

function floor(flops: number, bytes: number, gpu: GpuSpec, p: Precision, device: DeviceKind = 'cuda'): number | null {
  const peak = effectivePeak(workOf(flops, p, device), gpu);
  if (peak === null || gpu.bandwidthBytesPerS === null) return null;
  return Math.max(flops / peak.flopsPerS, bytes / gpu.bandwidthBytesPerS);
}

/** estimate.ts's analyseIteration for an image config: FLOPs, their dtype, the floor and the peak. */
export function visionAnalysis(
  a: VisionArch,
  cfg: ProfileConfig,
  gpu: GpuSpec | null,
  device: DeviceKind,
): IterationAnalysis {
  const c = visionIterationCost(a, cfg.stage, cfg.peft, cfg.precision, cfg.workload);
  const work = workOf(c.flops, cfg.precision, device);
  return {
    flops: c.flops,
    work,
    floorS: gpu ? floor(c.flops, c.bytes, gpu, cfg.precision, device) : null,
    peak: gpu ? effectivePeak(work, gpu) : null,
  };
}

export interface VisionEstimateFacts {
  family: VisionSpec['family'];
  /** Tokens one image becomes (ViT: patches + class token; DiT: latent patches). */
  tokensPerImage: number;
  /** Side of what is patchified: the image (ViT) or its latent (DiT). */
  inputSide: number;
  /** Forward FLOPs of one image (DiT: one sampling step). */
  flopsPerImage: number;
}

/**
 * The `estimate` summary of an image model. No KV cache and no decode: `prefillS` is the floor of one
 * forward pass of the batch (DiT: one sampling step), `decodePerTokenS` is null, flopsPerToken is the
 * forward FLOPs of an image spread over its tokens. `seqLen` of the options is ignored: an image's
 * token count is fixed by its size and patch.
 */
export function visionEstimate(a: VisionArch, o: EstimateOptions): ModelEstimate & { vision: VisionEstimateFacts } {
  const v = spec(a);
  const flopsPerImage = visionForwardFlops(a);
  const tokens = visionTokens(v);
  const stage = o.peft && o.peft.method !== 'full' ? 'finetune' : 'pretrain';
  const train = visionIterationCost(a, stage, o.peft ?? null, o.precision, { batch: o.batch });
  let floors: Floors = { prefillS: null, decodePerTokenS: null, decodeS: null, inferenceS: null, trainStepS: null };
  if (o.gpu) {
    const forwardS = floor(o.batch * flopsPerImage, visionWeightBytes(a, o.precision), o.gpu, o.precision);
    floors = {
      prefillS: forwardS,
      decodePerTokenS: null,
      decodeS: null,
      // ViT's inference is one forward; DiT's is as many as its sampling steps, which a profile config sets.
      inferenceS: v.family === 'vit' ? forwardS : null,
      trainStepS: floor(train.flops, train.bytes, o.gpu, o.precision),
    };
  }
  return {
    params: visionParams(a),
    activeParams: visionActiveParams(a),
    activeMatmulParams: visionActiveMatmulParams(a),
    weightBytes: visionWeightBytes(a, o.precision),
    kvBytesPerToken: 0,
    flopsPerToken: flopsPerImage / tokens,
    // prefill: one forward pass of the batch (DiT: one sampling step); no decode.
    flops: { prefill: o.batch * flopsPerImage, decode: 0, trainStep: train.flops },
    floors,
    vision: {
      family: v.family,
      tokensPerImage: tokens,
      inputSide: v.family === 'dit' ? v.imageSize / VAE_DOWNSAMPLE : v.imageSize,
      flopsPerImage,
    },
  };
}
