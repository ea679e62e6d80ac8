// Hugging Face config.json → the estimator's ModelArch. The JSON arrives untrusted (a user's file, a
// detected checkpoint), so every field is checked and every error names the config.json key, the way
// config.ts names ProfileConfig fields. Defaults follow the transformers configuration classes, so a
// config that omits a key means what it means to transformers.
import type { FieldError, Precision, Resolved } from './config';
import type { MlaDims, ModelArch, MoeLayout } from './estimate';

export const HF_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'mixtral', 'deepseek_v2', 'deepseek_v3', 'gpt2'] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

export interface HfModel {
  modelType: HfModelType;
  arch: ModelArch;
  /** The checkpoint's stored dtype (torch_dtype / dtype) when it is one we profile, else null. */
  dtype: Precision | null;
}

const DTYPES: Readonly<Record<string, Precision>> = { float32: 'fp32', bfloat16: 'bf16', float16: 'fp16' };

class Fields {
  readonly errors: FieldError[] = [];
  constructor(private readonly obj: Record<string, unknown>) {}

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** A positive integer (min 0 when zero is meaningful); `fallback` when absent or null. */
  int(key: string, fallback?: number, min = 1): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.errors.push({ field: key, message: `is required; give an integer ≥ ${min}` });
      return min;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.errors.push({ field: key, message: `${JSON.stringify(v)} is not allowed; use an integer ≥ ${min}` });
      return Math.max(min, 1);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.errors.push({ field: key, message: `${JSON.stringify(v)} is not allowed; use true or false` });
      return fallback;
    }
    return v;
  }

  str(key: string): string | null {
    const v = this.obj[key];
    return typeof v === 'string' ? v : null;
  }
}

/** True for an object that looks like a transformers config.json rather than a ProfileConfig input. */
export function isHfConfig(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && 'model_type' in json;
}

export function parseHfConfig(json: unknown): Resolved<HfModel> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, errors: [{ field: '(config.json)', message: 'must be a JSON object' }] };
  }
  const obj = json as Record<string, unknown>;
  const f = new Fields(obj);
  const mt = obj.model_type;
  if (typeof mt !== 'string' || !(HF_MODEL_TYPES as readonly string[]).includes(mt)) {
    const allowed = HF_MODEL_TYPES.map((t) => `"${t}"`).join(', ');
    return {
      ok: false,
      errors: [{ field: 'model_type', message: `${JSON.stringify(mt)} is not supported; use one of ${allowed}` }],
    };
  }
  const modelType = mt as HfModelType;
  const dtypeName = f.str('torch_dtype') ?? f.str('dtype');
  const dtype = dtypeName !== null ? (DTYPES[dtypeName] ?? null) : null;

  let arch: ModelArch;
  if (modelType === 'gpt2') {
    const hidden = f.int('n_embd');
    const heads = f.int('n_head');
    if (hidden % heads !== 0) f.errors.push({ field: 'n_head', message: `${heads} does not divide n_embd ${hidden}` });
    arch = {
      family: 'gpt2',
      shape: {
        layers: f.int('n_layer'),
        hidden,
        heads,
        kvHeads: heads,
        headDim: Math.floor(hidden / heads),
        ffn: f.int('n_inner', 4 * hidden),
        vocab: f.int('vocab_size'),
      },
      attention: 'mha',
      mla: null,
      nsa: null,
      moe: null,
      // GPT2LMHeadModel always ties lm_head to wte.
      tiedEmbeddings: true,
      qkvBias: true,
      positions: f.int('n_positions', 1024),
    };
  } else {
    const hidden = f.int('hidden_size');
    const heads = f.int('num_attention_heads');
    const kvHeads = f.int('num_key_value_heads', heads);
    if (heads % kvHeads !== 0)
      f.errors.push({
        field: 'num_key_value_heads',
        message: `${kvHeads} does not divide num_attention_heads ${heads}`,
      });
    const isDeepseek = modelType === 'deepseek_v2' || modelType === 'deepseek_v3';
    let mla: MlaDims | null = null;
    let headDim: number;
    if (isDeepseek) {
      mla = {
        kvRank: f.int('kv_lora_rank'),
        // null q_lora_rank (V2-Lite) means no query compression.
        qRank: f.int('q_lora_rank', 0, 0),
        ropeDim: f.int('qk_rope_head_dim'),
        qkNopeDim: f.int('qk_nope_head_dim'),
        vHeadDim: f.int('v_head_dim'),
      };
      headDim = mla.qkNopeDim + mla.ropeDim;
    } else {
      headDim = f.int('head_dim', Math.floor(hidden / heads));
    }
    let moe: MoeLayout | null = null;
    if (modelType === 'mixtral') {
      moe = {
        experts: f.int('num_local_experts', 8),
        topK: f.int('num_experts_per_tok', 2),
        shared: 0,
        expertFfn: f.int('intermediate_size'),
        firstDense: 0,
        layerFreq: 1,
        routerBias: false,
      };
    } else if (isDeepseek && f.has('n_routed_experts')) {
      moe = {
        experts: f.int('n_routed_experts'),
        topK: f.int('num_experts_per_tok'),
        shared: f.int('n_shared_experts', 0, 0),
        expertFfn: f.int('moe_intermediate_size'),
        firstDense: f.int('first_k_dense_replace', 0, 0),
        layerFreq: f.int('moe_layer_freq', 1),
        // V3's "noaux_tc" routing adds a learned per-expert bias (e_score_correction_bias).
        routerBias: modelType === 'deepseek_v3' || f.str('topk_method') === 'noaux_tc',
      };
    }
    if (moe && moe.topK > moe.experts)
      f.errors.push({ field: 'num_experts_per_tok', message: `${moe.topK} is more than the ${moe.experts} experts` });
    arch = {
      family: 'decoder',
      shape: {
        layers: f.int('num_hidden_layers'),
        hidden,
        heads,
        kvHeads,
        headDim,
        ffn: f.int('intermediate_size'),
        vocab: f.int('vocab_size'),
      },
      attention: isDeepseek ? 'mla' : kvHeads === heads ? 'mha' : kvHeads === 1 ? 'mqa' : 'gqa',
      mla,
      nsa: null,
      moe,
      tiedEmbeddings: f.bool('tie_word_embeddings', false),
      // Qwen2 always has q/k/v biases; Llama has them only with attention_bias (and then on o too,
      // which we leave out: no released checkpoint uses it).
      qkvBias: modelType === 'qwen2' || (modelType === 'llama' && f.bool('attention_bias', false)),
      positions: 0,
    };
  }
  if (f.errors.length > 0) return { ok: false, errors: f.errors };
  return { ok: true, value: { modelType, arch, dtype } };
}
