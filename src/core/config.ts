// ProfileConfig: one profiling run, as DESIGN.md "Contracts" defines it.
// Two shapes live here: the loose input a user or the CLI writes (`ProfileConfigInput`) and the
// resolved config every later stage sees (`ProfileConfig`), with presets expanded and defaults filled.
// `resolveConfig` is the only way from one to the other, and every error it returns names the field
// and the values it accepts.

export const STAGES = ['pretrain', 'finetune', 'inference'] as const;
export const ATTENTION_KINDS = ['mha', 'mqa', 'gqa', 'mla', 'nsa'] as const;
export const PRECISIONS = ['fp32', 'bf16', 'fp16', 'int8', 'int4', 'fp8'] as const;
export const PEFT_METHODS = ['full', 'lora', 'rslora', 'dora', 'freeze'] as const;
export const PARALLEL_STRATEGIES = ['ddp', 'fsdp'] as const;

export type Stage = (typeof STAGES)[number];
export type AttentionKind = (typeof ATTENTION_KINDS)[number];
export type Precision = (typeof PRECISIONS)[number];
export type PeftMethod = (typeof PEFT_METHODS)[number];
export type ParallelStrategy = (typeof PARALLEL_STRATEGIES)[number];

/**
 * Data parallelism over processes (torch.distributed): `nproc` ranks per node, each with the whole
 * workload (workload.batch is per rank, as in torchrun scripts), DDP replicating or FSDP sharding the
 * model. Absent from a resolved config when one process runs it, so older records read the same.
 */
export interface ParallelSpec {
  nproc: number;
  nodes: number;
  strategy: ParallelStrategy;
}

/** The shape of a decoder-only transformer: everything needed to build it or count it. */
export interface ModelShape {
  layers: number;
  hidden: number;
  heads: number;
  /** KV heads actually used by the attention (MHA: heads, MQA: 1, GQA: between). */
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
}

export interface MlaOptions {
  kvRank: number;
  /** 0 means no query compression. */
  qRank: number;
  ropeDim: number;
}

export interface NsaOptions {
  block: number;
  selected: number;
  window: number;
}

export interface AttentionSpec {
  kind: AttentionKind;
  kvHeads: number;
  mla: MlaOptions | null;
  nsa: NsaOptions | null;
}

export interface MoeSpec {
  experts: number;
  topK: number;
  shared: number;
}

export interface PeftSpec {
  method: PeftMethod;
  rank: number;
  alpha: number;
  targets: string[];
}

export interface Workload {
  batch: number;
  seqLen: number;
  newTokens: number;
  steps: number;
  warmup: number;
  /** DiT inference: denoising steps per image (each a forward pass over the batch). */
  samplingSteps?: number;
}

export const VISION_FAMILIES = ['vit', 'dit'] as const;
export type VisionFamily = (typeof VISION_FAMILIES)[number];

/**
 * An image model (issue 16): the ModelShape's transformer runs over patches instead of tokens, with
 * bidirectional attention. `vit` (Dosovitskiy et al. 2021, timm's VisionTransformer): patch
 * embedding, class token, learned positions, classification head. `dit` (Peebles & Xie 2023):
 * patchified VAE latents, timestep and class conditioning through adaLN-Zero, noise prediction.
 * Neither has a token vocabulary, so `shape.vocab` holds the number of classes: the width of ViT's
 * head and DiT's label table (plus the null class of classifier-free guidance).
 */
export interface VisionSpec {
  family: VisionFamily;
  /** Side of the square image in pixels. DiT patchifies its latent, imageSize / 8 (the SD VAE). */
  imageSize: number;
  /** Side of a square patch (of the image for ViT, of the latent for DiT). */
  patch: number;
  /** Channels patchified: 3 (RGB) for ViT, 4 (the VAE latent) for DiT. */
  channels: number;
  /** DiT: also predict the variance (output channels doubled), as the DiT paper's models do. */
  learnSigma: boolean;
}

/** DiT's latents are the SD VAE's: 8× smaller than the image on each side. */
export const VAE_DOWNSAMPLE = 8;

/** Tokens one image becomes: ViT patches plus the class token; DiT latent patches. */
export function visionTokens(v: VisionSpec): number {
  const side = v.family === 'dit' ? v.imageSize / VAE_DOWNSAMPLE : v.imageSize;
  return (side / v.patch) ** 2 + (v.family === 'vit' ? 1 : 0);
}

export type ModelSpec =
  | { source: 'synthetic'; preset: string | null; shape: ModelShape; vision?: VisionSpec }
  | { source: 'hf'; path: string };

export interface ProfileConfig {
  /** A short human label, e.g. "tiny gqa-2 bf16 inference". */
  label: string;
  stage: Stage;
  model: ModelSpec;
  attention: AttentionSpec;
  moe: MoeSpec | null;
  peft: PeftSpec | null;
  precision: Precision;
  workload: Workload;
  /** Interval of the harness's monitor thread. */
  sampleMs: number;
  seed: number;
  /**
   * Quality beside cost: train for this many tokens (pretrain from scratch; finetune a trained base on
   * a held-apart task; inference scores the precision on a trained model) and evaluate held-out loss.
   * Absent (older records, speed-only runs): nothing is trained to a budget and quality is null.
   */
  trainTokens?: number;
  /** Where training and held-out tokens come from (with trainTokens). */
  data?: DataSpec;
  /** Tokens between held-out evaluations (default: a quarter of trainTokens). */
  evalEvery?: number;
  /** More than one process (data parallel); absent for one. */
  parallel?: ParallelSpec;
}

/** `synthetic` (a seeded source of known entropy), `text:PATH` or `tokens:PATH` (uint16 .bin) on the target. */
export type DataSpec = 'synthetic' | `text:${string}` | `tokens:${string}`;

export function isDataSpec(v: unknown): v is DataSpec {
  return v === 'synthetic' || (typeof v === 'string' && /^(text|tokens):./.test(v) && !/[\0\n]/.test(v));
}

// ---- input (what users write) ----

export interface ProfileConfigInput {
  label?: string;
  stage?: string;
  model?: {
    source?: string;
    preset?: string;
    path?: string;
    shape?: Partial<ModelShape>;
    vision?: Partial<VisionSpec>;
  };
  attention?: { kind?: string; kvHeads?: number; mla?: Partial<MlaOptions>; nsa?: Partial<NsaOptions> };
  moe?: Partial<MoeSpec> | null;
  peft?: { method?: string; rank?: number; alpha?: number; targets?: string[] } | null;
  precision?: string;
  workload?: Partial<Workload>;
  sampleMs?: number;
  seed?: number;
  trainTokens?: number;
  data?: string;
  evalEvery?: number;
  parallel?: { nproc?: number; nodes?: number; strategy?: string };
}

export interface FieldError {
  /** Dotted path of the offending field, e.g. "attention.kvHeads". */
  field: string;
  message: string;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Preset shapes. The Qwen2.5-style ones follow the study's models (hidden, heads, KV heads, FFN). */
export const PRESETS: Readonly<Record<string, Readonly<ModelShape>>> = {
  // Small enough for CPU tests; 8 heads so that kvHeads 3 is an error and 1, 2, 4, 8 are not.
  tiny: { layers: 2, hidden: 256, heads: 8, kvHeads: 2, headDim: 32, ffn: 688, vocab: 1024 },
  '0.5b': { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864, vocab: 151936 },
  '1.5b': { layers: 28, hidden: 1536, heads: 12, kvHeads: 2, headDim: 128, ffn: 8960, vocab: 151936 },
  '3b': { layers: 36, hidden: 2048, heads: 16, kvHeads: 2, headDim: 128, ffn: 11008, vocab: 151936 },
};

/** Mixture-of-experts presets of the study: a dense preset's shape with every FFN made sparse. */
export const MOE_PRESETS: Readonly<Record<string, { base: string; moe: Readonly<MoeSpec> }>> = {
  '0.5bx8': { base: '0.5b', moe: { experts: 8, topK: 2, shared: 0 } },
  '1.5bx8': { base: '1.5b', moe: { experts: 8, topK: 2, shared: 0 } },
};

const vit = (layers: number, hidden: number, heads: number): ModelShape => ({
  layers,
  hidden,
  heads,
  kvHeads: heads,
  headDim: hidden / heads,
  ffn: 4 * hidden,
  vocab: 1000,
});
const VIT_224_16: VisionSpec = { family: 'vit', imageSize: 224, patch: 16, channels: 3, learnSigma: false };
const DIT_256_2: VisionSpec = { family: 'dit', imageSize: 256, patch: 2, channels: 4, learnSigma: true };

/**
 * Vision presets with published shapes: ViT-B/16 and ViT-L/16 (the ViT paper's Table 1, timm's
 * 224-pixel 1000-class heads), DiT-B/2, DiT-L/2 and DiT-XL/2 (the DiT paper's Table 1: 256×256
 * ImageNet, 32×32×4 latents, learned sigma, MLP ratio 4), all with MHA as published; and two
 * CPU-sized ones whose 4 heads let GQA (2 KV heads) differ from MHA and MQA.
 */
export const VISION_PRESETS: Readonly<Record<string, { shape: Readonly<ModelShape>; vision: Readonly<VisionSpec> }>> = {
  'vit-b-16': { shape: vit(12, 768, 12), vision: VIT_224_16 },
  'vit-l-16': { shape: vit(24, 1024, 16), vision: VIT_224_16 },
  'dit-b-2': { shape: vit(12, 768, 12), vision: DIT_256_2 },
  'dit-l-2': { shape: vit(24, 1024, 16), vision: DIT_256_2 },
  'dit-xl-2': { shape: vit(28, 1152, 16), vision: DIT_256_2 },
  'vit-tiny': {
    shape: { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, ffn: 256, vocab: 10 },
    vision: { family: 'vit', imageSize: 32, patch: 8, channels: 3, learnSigma: false },
  },
  'dit-tiny': {
    shape: { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, ffn: 256, vocab: 10 },
    vision: { family: 'dit', imageSize: 64, patch: 2, channels: 4, learnSigma: true },
  },
};

export const PRESET_NAMES = [...Object.keys(PRESETS), ...Object.keys(MOE_PRESETS), ...Object.keys(VISION_PRESETS)];

/** The shape of a preset name, dense, MoE or vision; undefined for an unknown name. */
export function presetShape(name: string): Readonly<ModelShape> | undefined {
  return (
    PRESETS[name] ?? (MOE_PRESETS[name] ? PRESETS[MOE_PRESETS[name].base] : undefined) ?? VISION_PRESETS[name]?.shape
  );
}

export const DEFAULT_WORKLOAD: Readonly<Workload> = { batch: 1, seqLen: 128, newTokens: 32, steps: 5, warmup: 2 };
export const DEFAULT_SAMPLE_MS = 50;
export const DEFAULT_NSA: Readonly<NsaOptions> = { block: 64, selected: 4, window: 128 };

const oneOf = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(', ');

function isOneOf<T extends string>(values: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (values as readonly string[]).includes(v);
}

/** Collects errors while reading one input; each check names its field. */
class Checker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  choice<T extends string>(field: string, v: unknown, values: readonly T[], fallback: T): T {
    if (v === undefined) return fallback;
    if (isOneOf(values, v)) return v;
    this.fail(field, `${JSON.stringify(v)} is not allowed; use one of ${oneOf(values)}`);
    return fallback;
  }

  int(field: string, v: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
      this.fail(field, `${JSON.stringify(v)} is not allowed; use ${range}`);
      return fallback;
    }
    return v;
  }

  /** A size with a sanity bound (SHAPE_LIMITS, WORKLOAD_LIMITS): beyond it the message says why. */
  size(field: string, v: unknown, fallback: number, min: number, max: number): number {
    if (typeof v === 'number' && Number.isInteger(v) && v > max) {
      this.fail(
        field,
        `${v} is beyond any published model (at most ${max.toLocaleString('en-US')}, about ten times the largest); check for a typo`,
      );
      return fallback;
    }
    return this.int(field, v, fallback, min);
  }
}

/**
 * Upper bounds of a model's shape and workload, each about ten times the largest published value, so
 * that they catch only what cannot be meant (an extra zero, a pasted number) and leave every real model,
 * and some headroom, to the fit check against the target's memory (fit.ts). The largest published:
 * layers 126 (Llama 3.1 405B; PaLM 540B has 118), hidden 20,480 (Megatron-Turing NLG 530B), heads 128
 * (Llama 3.1 405B, DeepSeek-V3), head dimension 256 (Gemma), FFN 81,920 (MT-NLG), vocabulary 262,144
 * (Gemma 3), context 10M tokens (Llama 4 Scout), 2,048 sequences per step (PaLM, Llama 3).
 */
export const SHAPE_LIMITS: Readonly<Record<keyof ModelShape, number>> = {
  layers: 1_000,
  hidden: 200_000,
  heads: 1_000,
  kvHeads: 1_000,
  headDim: 2_048,
  ffn: 1_000_000,
  vocab: 2_621_440,
};
export const WORKLOAD_LIMITS: Readonly<Pick<Workload, 'batch' | 'seqLen' | 'newTokens'>> = {
  batch: 20_480,
  seqLen: 100_000_000,
  newTokens: 100_000_000,
};

function resolveShape(c: Checker, input: ProfileConfigInput['model']): { preset: string | null; shape: ModelShape } {
  const presetName = input?.preset;
  let base: ModelShape | undefined;
  if (presetName !== undefined) {
    base = presetShape(presetName);
    if (!base)
      c.fail('model.preset', `${JSON.stringify(presetName)} is not a preset; use one of ${oneOf(PRESET_NAMES)}`);
  }
  const given = input?.shape ?? {};
  if (!base && presetName === undefined && Object.keys(given).length === 0) {
    c.fail('model', `give model.preset (one of ${oneOf(PRESET_NAMES)}) or a full model.shape`);
  }
  const from = base ?? PRESETS.tiny;
  const shape: ModelShape = {
    layers: c.size('model.shape.layers', given.layers, from.layers, 1, SHAPE_LIMITS.layers),
    hidden: c.size('model.shape.hidden', given.hidden, from.hidden, 1, SHAPE_LIMITS.hidden),
    heads: c.size('model.shape.heads', given.heads, from.heads, 1, SHAPE_LIMITS.heads),
    kvHeads: c.size('model.shape.kvHeads', given.kvHeads, from.kvHeads, 1, SHAPE_LIMITS.kvHeads),
    headDim: c.size('model.shape.headDim', given.headDim, from.headDim, 1, SHAPE_LIMITS.headDim),
    ffn: c.size('model.shape.ffn', given.ffn, from.ffn, 1, SHAPE_LIMITS.ffn),
    vocab: c.size('model.shape.vocab', given.vocab, from.vocab, 2, SHAPE_LIMITS.vocab),
  };
  if (shape.headDim % 2 !== 0)
    c.fail('model.shape.headDim', `${shape.headDim} is odd; RoPE needs an even head dimension`);
  return { preset: presetName ?? null, shape };
}

/** DiT inference's default denoising steps: a CPU-sized sample (the DiT paper samples with 250 DDPM steps). */
export const DEFAULT_SAMPLING_STEPS = 10;

/** The model's VisionSpec: a vision preset's, with model.vision's fields over it; undefined for a text model. */
function resolveVision(c: Checker, input: ProfileConfigInput['model']): VisionSpec | undefined {
  const fromPreset = input?.preset !== undefined ? VISION_PRESETS[input.preset]?.vision : undefined;
  const given = input?.vision;
  if (!fromPreset && given === undefined) return undefined;
  const g = given ?? {};
  const base = fromPreset ?? (g.family === 'dit' ? DIT_256_2 : VIT_224_16);
  const family = c.choice('model.vision.family', g.family, VISION_FAMILIES, base.family);
  const v: VisionSpec = {
    family,
    imageSize: c.size('model.vision.imageSize', g.imageSize, base.imageSize, 1, 100_000),
    patch: c.size('model.vision.patch', g.patch, base.patch, 1, 10_000),
    channels: c.size('model.vision.channels', g.channels, base.channels, 1, 10_000),
    learnSigma: family === 'dit' && base.learnSigma,
  };
  if (g.learnSigma !== undefined) {
    if (typeof g.learnSigma !== 'boolean')
      c.fail('model.vision.learnSigma', `${JSON.stringify(g.learnSigma)} is not allowed; use true or false`);
    else if (g.learnSigma && family !== 'dit')
      c.fail('model.vision.learnSigma', 'applies to DiT only (model.vision.family "dit")');
    else v.learnSigma = g.learnSigma;
  }
  const side = family === 'dit' ? v.imageSize / VAE_DOWNSAMPLE : v.imageSize;
  if (family === 'dit' && !Number.isInteger(side))
    c.fail(
      'model.vision.imageSize',
      `${v.imageSize} is not a multiple of ${VAE_DOWNSAMPLE}, the VAE's downsampling; DiT's latent must be whole`,
    );
  else if (!Number.isInteger(side / v.patch))
    c.fail(
      'model.vision.patch',
      `${v.patch} does not divide the ${family === 'dit' ? 'latent' : 'image'} side ${side}`,
    );
  return v;
}

/**
 * An image's workload: a ViT or DiT sees a fixed number of tokens per image and generates none, so
 * seqLen is the image's token count and newTokens 0 (given otherwise, they are refused rather than
 * ignored); DiT inference samples with workload.samplingSteps forward passes.
 */
function visionWorkload(
  c: Checker,
  input: ProfileConfigInput,
  v: VisionSpec,
  attention: AttentionSpec,
  workload: Workload,
  stage: Stage,
): void {
  const w = input.workload ?? {};
  const tokens = visionTokens(v);
  if (w.seqLen !== undefined && w.seqLen !== tokens)
    c.fail(
      'workload.seqLen',
      `${w.seqLen} contradicts the image: ${v.family} sees ${tokens} tokens per image; drop it`,
    );
  if (w.newTokens !== undefined && w.newTokens !== 0)
    c.fail(
      'workload.newTokens',
      `${v.family} generates no tokens; drop it (DiT inference uses workload.samplingSteps)`,
    );
  workload.seqLen = tokens;
  workload.newTokens = 0;
  if (v.family === 'dit' && stage === 'inference')
    workload.samplingSteps = c.int('workload.samplingSteps', w.samplingSteps, DEFAULT_SAMPLING_STEPS, 1, 10_000);
  else if (w.samplingSteps !== undefined)
    c.fail('workload.samplingSteps', 'applies to DiT inference only (model.vision.family "dit", stage "inference")');
  if (attention.kind === 'nsa')
    c.fail(
      'attention.kind',
      `"nsa" is not supported for ${v.family}: NSA's sliding window and block selection are built for causal decoding of a sequence, and an image's patches have no order to slide over; use mha, mqa, gqa or mla`,
    );
  if (input.trainTokens !== undefined)
    c.fail(
      'trainTokens',
      `training ${v.family} to a budget (held-out quality) is not supported yet; drop it to measure speed`,
    );
}

function resolveAttention(c: Checker, input: ProfileConfigInput['attention'], shape: ModelShape): AttentionSpec {
  const kind = c.choice('attention.kind', input?.kind, ATTENTION_KINDS, 'gqa');
  let kvHeads: number;
  if (kind === 'mha') kvHeads = shape.heads;
  else if (kind === 'mqa') kvHeads = 1;
  else kvHeads = c.int('attention.kvHeads', input?.kvHeads, Math.min(shape.kvHeads, shape.heads), 1);
  if ((kind === 'mha' || kind === 'mqa') && input?.kvHeads !== undefined && input.kvHeads !== kvHeads) {
    c.fail(
      'attention.kvHeads',
      `${input.kvHeads} contradicts attention.kind "${kind}", which uses ${kvHeads}; drop it or use kind "gqa"`,
    );
  }
  if (kvHeads > shape.heads || shape.heads % kvHeads !== 0) {
    const divisors = Array.from({ length: shape.heads }, (_, i) => i + 1).filter((d) => shape.heads % d === 0);
    c.fail(
      'attention.kvHeads',
      `${kvHeads} does not divide the ${shape.heads} query heads; use one of ${divisors.join(', ')}`,
    );
  }
  let mla: MlaOptions | null = null;
  if (kind === 'mla') {
    mla = {
      kvRank: c.int('attention.mla.kvRank', input?.mla?.kvRank, Math.max(16, Math.floor(shape.hidden / 4)), 1),
      qRank: c.int('attention.mla.qRank', input?.mla?.qRank, 0, 0),
      ropeDim: c.int('attention.mla.ropeDim', input?.mla?.ropeDim, Math.max(2, Math.floor(shape.headDim / 2)), 2),
    };
    if (mla.ropeDim % 2 !== 0) c.fail('attention.mla.ropeDim', `${mla.ropeDim} is odd; RoPE needs an even dimension`);
  }
  let nsa: NsaOptions | null = null;
  if (kind === 'nsa') {
    nsa = {
      block: c.int('attention.nsa.block', input?.nsa?.block, DEFAULT_NSA.block, 1),
      selected: c.int('attention.nsa.selected', input?.nsa?.selected, DEFAULT_NSA.selected, 1),
      window: c.int('attention.nsa.window', input?.nsa?.window, DEFAULT_NSA.window, 1),
    };
  }
  return { kind, kvHeads, mla, nsa };
}

function resolveMoe(c: Checker, input: ProfileConfigInput['moe']): MoeSpec | null {
  if (input === undefined || input === null) return null;
  const experts = c.int('moe.experts', input.experts, 8, 1);
  const topK = c.int('moe.topK', input.topK, 2, 1);
  if (topK > experts) c.fail('moe.topK', `${topK} is more than moe.experts (${experts}); use 1 to ${experts}`);
  return { experts, topK, shared: c.int('moe.shared', input.shared, 0, 0) };
}

export const DEFAULT_PEFT_TARGETS = ['q', 'k', 'v', 'o'];

function resolvePeft(c: Checker, input: ProfileConfigInput['peft'], stage: Stage): PeftSpec | null {
  if (input === undefined || input === null)
    return stage === 'finetune' ? { method: 'full', rank: 0, alpha: 0, targets: [] } : null;
  if (stage !== 'finetune') c.fail('peft', `PEFT applies to stage "finetune" only, not "${stage}"`);
  const method = c.choice('peft.method', input.method, PEFT_METHODS, 'lora');
  const adapter = method === 'lora' || method === 'rslora' || method === 'dora';
  const rank = c.int('peft.rank', input.rank, adapter ? 8 : method === 'freeze' ? 1 : 0, 0);
  const alpha = c.int('peft.alpha', input.alpha, adapter ? 2 * rank : 0, 0);
  if (adapter && rank < 1) c.fail('peft.rank', `${rank} is not allowed for ${method}; use an integer ≥ 1`);
  const targets = input.targets ?? (adapter ? DEFAULT_PEFT_TARGETS : []);
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string' || t.length === 0)) {
    c.fail('peft.targets', 'must be a list of module names such as "q", "k", "v", "o", "gate", "up", "down"');
  }
  return { method, rank, alpha, targets: Array.isArray(targets) ? targets : [] };
}

/** The preset's name when the shape is the preset's (KV heads aside, which the attention sets), else "custom". */
function shapeName(preset: string | null, shape: ModelShape): string {
  const base = preset === null ? undefined : presetShape(preset);
  if (!base) return 'custom';
  const same = (Object.keys(base) as (keyof ModelShape)[]).every((k) => k === 'kvHeads' || base[k] === shape[k]);
  return same ? (preset as string) : `custom (from ${preset})`;
}

function describe(cfg: Omit<ProfileConfig, 'label'>): string {
  const model = cfg.model.source === 'synthetic' ? shapeName(cfg.model.preset, cfg.model.shape) : cfg.model.path;
  const a = cfg.attention;
  const attn = a.kind === 'gqa' ? `gqa-${a.kvHeads}` : a.kind;
  const parts = [model, attn];
  if (cfg.moe) parts.push(`moe${cfg.moe.experts}x${cfg.moe.topK}`);
  if (cfg.peft && cfg.stage === 'finetune') parts.push(cfg.peft.method);
  parts.push(cfg.precision, cfg.stage);
  if (cfg.workload.samplingSteps !== undefined) parts.push(`${cfg.workload.samplingSteps} steps`);
  if (cfg.trainTokens !== undefined) parts.push(`${tokenCount(cfg.trainTokens)} tokens`);
  if (cfg.seed !== 0) parts.push(`seed ${cfg.seed}`);
  if (cfg.parallel) {
    const p = cfg.parallel;
    parts.push(
      `${p.nproc} procs${p.nodes > 1 ? ` × ${p.nodes} nodes` : ''}${p.strategy === 'ddp' ? '' : ` ${p.strategy}`}`,
    );
  }
  return parts.join(' ');
}

// ---- strict fields: nothing a user writes is silently ignored ----

/** The fields an input may hold: `true` for a value, a nested tree for an object of fields. */
export interface FieldTree {
  readonly [field: string]: true | FieldTree;
}

/** Every field of ProfileConfigInput; `moe` and `peft` may also be null (off). */
export const CONFIG_FIELDS: FieldTree = {
  label: true,
  stage: true,
  model: {
    source: true,
    preset: true,
    path: true,
    shape: { layers: true, hidden: true, heads: true, kvHeads: true, headDim: true, ffn: true, vocab: true },
    vision: { family: true, imageSize: true, patch: true, channels: true, learnSigma: true },
  },
  attention: {
    kind: true,
    kvHeads: true,
    mla: { kvRank: true, qRank: true, ropeDim: true },
    nsa: { block: true, selected: true, window: true },
  },
  moe: { experts: true, topK: true, shared: true },
  peft: { method: true, rank: true, alpha: true, targets: true },
  precision: true,
  workload: { batch: true, seqLen: true, newTokens: true, steps: true, warmup: true, samplingSteps: true },
  sampleMs: true,
  seed: true,
  trainTokens: true,
  data: true,
  evalEvery: true,
  parallel: { nproc: true, nodes: true, strategy: true },
};

/** Objects that may be null to mean "off" (a resolved config holds null for the attention options it does not use). */
const NULLABLE = new Set(['moe', 'peft', 'attention.mla', 'attention.nsa']);

/**
 * Edits from one name to another (insert, delete, replace, swap two neighbours: bacth → batch is one),
 * ignoring case, since kvheads is kvHeads misspelt, not another word.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** Every field path of a tree ("workload.seqLen"), objects included. */
function pathsOf(tree: FieldTree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const path = prefix + k;
    return v === true ? [path] : [path, ...pathsOf(v, `${path}.`)];
  });
}

const lastName = (path: string): string => path.slice(path.lastIndexOf('.') + 1);
const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');

/**
 * The message for an unknown field `name` at `at` (a path in `tree`, '' for the top): where a field of
 * that exact name lives when it lives elsewhere ("belongs under workload"), else the nearest known
 * field by edit distance, at this level first ("did you mean attention.kvHeads?"), else the fields
 * that this level knows.
 */
function unknownFieldMessage(tree: FieldTree, at: string, name: string, shown: (path: string) => string): string {
  const all = pathsOf(tree);
  const elsewhere = all.filter((p) => lastName(p) === name && parentOf(p) !== at);
  if (elsewhere.length > 0) {
    const parents = elsewhere.map((p) => (parentOf(p) === '' ? 'the top level' : shown(parentOf(p))));
    return `belongs ${parents[0] === 'the top level' ? 'at' : 'under'} ${parents.join(' or ')}`;
  }
  // Close enough to be a slip: a third of the name's letters (kvheads → kvHeads is 0, seqlen → seqLen 0).
  const near = (p: string): boolean => editDistance(lastName(p), name) <= Math.max(1, Math.floor(name.length / 3));
  const byDistance = (a: string, b: string): number =>
    editDistance(lastName(a), name) - editDistance(lastName(b), name);
  const siblings = all.filter((p) => parentOf(p) === at);
  const guess = siblings.filter(near).sort(byDistance)[0] ?? all.filter(near).sort(byDistance)[0];
  if (guess !== undefined) return `unknown field; did you mean ${shown(guess)}?`;
  const where = shown(at).replace(/\.$/, '');
  return `unknown field; ${where === '' ? 'the known fields are' : `${where} knows`} ${siblings.map(lastName).join(', ')}`;
}

/**
 * Unknown fields of `value` against `tree`, each named by its full path with a suggestion, and
 * objects given as something else. `prefix` is prepended to every path shown ("base." in a plan).
 */
export function unknownFields(value: unknown, tree: FieldTree, prefix = ''): FieldError[] {
  const shown = (path: string): string => prefix + path;
  const errors: FieldError[] = [];
  const walk = (v: unknown, sub: FieldTree, at: string): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const path = at === '' ? k : `${at}.${k}`;
      const known = Object.prototype.hasOwnProperty.call(sub, k) ? sub[k] : undefined;
      if (known === undefined) {
        errors.push({ field: shown(path), message: unknownFieldMessage(tree, at, k, shown) });
      } else if (known !== true) {
        if (child === null && NULLABLE.has(path)) continue;
        if (typeof child !== 'object' || child === null || Array.isArray(child)) {
          errors.push({
            field: shown(path),
            message: `${JSON.stringify(child)} is not allowed; use an object with ${Object.keys(known).join(', ')}`,
          });
        } else walk(child, known, path);
      }
    }
  };
  walk(value, tree, '');
  return errors;
}

/** The unknown or misplaced fields of one config input (see unknownFields). */
export function unknownConfigFields(input: unknown, prefix = ''): FieldError[] {
  return unknownFields(input, CONFIG_FIELDS, prefix);
}

/** Turns user input into a complete ProfileConfig, or lists every field that is wrong. */
export function resolveConfig(input: ProfileConfigInput): Resolved<ProfileConfig> {
  const c = new Checker();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '(config)', message: 'must be a JSON object' }] };
  }
  // A misspelt or misplaced field would otherwise fall back to its default and measure something else.
  const unknown = unknownConfigFields(input);
  if (unknown.length > 0) return { ok: false, errors: unknown };
  const stage = c.choice('stage', input.stage, STAGES, 'inference');
  const source = c.choice('model.source', input.model?.source, ['synthetic', 'hf'] as const, 'synthetic');
  let model: ModelSpec;
  let shape: ModelShape;
  if (source === 'hf') {
    const path = input.model?.path;
    if (typeof path !== 'string' || path.length === 0)
      c.fail('model.path', 'give the local folder or cached hub id of the Hugging Face model');
    model = { source: 'hf', path: typeof path === 'string' ? path : '' };
    if (input.model?.vision !== undefined)
      c.fail('model.vision', 'applies to synthetic models only, not model.source "hf"');
    shape = PRESETS.tiny; // only used for attention defaults; the harness reads the real shape from the checkpoint
  } else {
    const r = resolveShape(c, input.model);
    shape = r.shape;
    model = { source: 'synthetic', preset: r.preset, shape };
    const vision = resolveVision(c, input.model);
    if (vision) model.vision = vision;
  }
  const attention = resolveAttention(c, input.attention, shape);
  if (model.source === 'synthetic') model.shape = { ...shape, kvHeads: attention.kvHeads };
  const presetMoe = input.model?.preset !== undefined ? MOE_PRESETS[input.model.preset]?.moe : undefined;
  // An MoE preset brings its experts unless the input says otherwise (null turns MoE off).
  const moe = resolveMoe(c, input.moe === undefined && presetMoe ? { ...presetMoe } : input.moe);
  const peft = resolvePeft(c, input.peft, stage);
  const precision = c.choice('precision', input.precision, PRECISIONS, 'fp32');
  const w = input.workload ?? {};
  const workload: Workload = {
    batch: c.size('workload.batch', w.batch, DEFAULT_WORKLOAD.batch, 1, WORKLOAD_LIMITS.batch),
    seqLen: c.size('workload.seqLen', w.seqLen, DEFAULT_WORKLOAD.seqLen, 1, WORKLOAD_LIMITS.seqLen),
    newTokens: c.size(
      'workload.newTokens',
      w.newTokens,
      DEFAULT_WORKLOAD.newTokens,
      stage === 'inference' ? 1 : 0,
      WORKLOAD_LIMITS.newTokens,
    ),
    steps: c.int('workload.steps', w.steps, DEFAULT_WORKLOAD.steps, 1),
    warmup: c.int('workload.warmup', w.warmup, DEFAULT_WORKLOAD.warmup, 0),
  };
  if (stage !== 'inference' && w.newTokens === undefined) workload.newTokens = 0;
  if (model.source === 'synthetic' && model.vision) visionWorkload(c, input, model.vision, attention, workload, stage);
  else if (w.samplingSteps !== undefined)
    c.fail('workload.samplingSteps', 'applies to DiT models only (model.vision.family "dit")');
  const sampleMs = c.int('sampleMs', input.sampleMs, DEFAULT_SAMPLE_MS, 1, 60_000);
  const seed = c.int('seed', input.seed, 0, 0);
  const budget = resolveBudget(c, input, model);
  const parallel = resolveParallel(c, input.parallel, stage, budget.trainTokens);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  const resolved = {
    stage,
    model,
    attention,
    moe,
    peft,
    precision,
    workload,
    sampleMs,
    seed,
    ...budget,
    ...(parallel ? { parallel } : {}),
  };
  const label = typeof input.label === 'string' && input.label.length > 0 ? input.label : describe(resolved);
  return { ok: true, value: { label, ...resolved } };
}

/** 150000 → "150k", 2000000 → "2M": how budgets are written on the command line. */
export function tokenCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

function resolveBudget(
  c: Checker,
  input: ProfileConfigInput,
  model: ModelSpec,
): Pick<ProfileConfig, 'trainTokens' | 'data' | 'evalEvery'> {
  if (input.trainTokens === undefined) {
    if (input.data !== undefined && input.data !== 'synthetic')
      c.fail('data', 'is read only when training to a budget; add trainTokens (--train-tokens on the command line)');
    if (input.evalEvery !== undefined)
      c.fail('evalEvery', 'applies only with trainTokens (--train-tokens on the command line)');
    return {};
  }
  const trainTokens = c.int('trainTokens', input.trainTokens, 0, 1);
  const data = input.data ?? 'synthetic';
  if (!isDataSpec(data)) {
    c.fail('data', `${JSON.stringify(data)} is not allowed; use "synthetic", "text:PATH" or "tokens:PATH"`);
  } else if (data.startsWith('text:') && model.source === 'synthetic' && model.shape.vocab < 256) {
    c.fail('data', `text is read as bytes and needs model.shape.vocab ≥ 256 (it is ${model.shape.vocab})`);
  }
  if (model.source === 'hf')
    c.fail('trainTokens', 'training a Hugging Face checkpoint to a budget is not supported yet');
  const evalEvery = c.int('evalEvery', input.evalEvery, Math.max(1, Math.floor(trainTokens / 4)), 1);
  return { trainTokens, data: isDataSpec(data) ? data : 'synthetic', evalEvery };
}

/** Processes per node, bounded so a typo (an extra zero) is not 1,000 processes started on a host. */
export const MAX_NPROC = 256;

/**
 * `parallel`, or nothing for one process on one node with DDP (the same run as no `parallel` at all, so
 * a sweep's 1-process run is the sibling that scaling efficiency divides by).
 */
function resolveParallel(
  c: Checker,
  input: ProfileConfigInput['parallel'],
  stage: Stage,
  trainTokens: number | undefined,
): ParallelSpec | undefined {
  if (input === undefined) return undefined;
  const nproc = c.int('parallel.nproc', input.nproc, 1, 1, MAX_NPROC);
  const nodes = c.int('parallel.nodes', input.nodes, 1, 1, 1024);
  const strategy = c.choice('parallel.strategy', input.strategy, PARALLEL_STRATEGIES, 'ddp');
  if (nproc === 1 && nodes === 1 && strategy === 'ddp') return undefined;
  if (strategy === 'fsdp' && stage === 'inference')
    c.fail('parallel.strategy', '"fsdp" shards training state; for inference use "ddp" (independent replicas)');
  if (trainTokens !== undefined)
    c.fail('parallel', 'training to a budget (trainTokens) runs in one process for now; drop parallel or trainTokens');
  return { nproc, nodes, strategy };
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('\n');
}
