// A Hugging Face config.json → one `config` site. The shape comes from core's parseHfConfig (the
// estimator's own reading); a model_type it does not support still gives a site from the raw head
// counts, with the reason in `details.problem`, so the user sees what was found.
import type { AttentionKind } from '../core/config';
import { isHfConfig, parseHfConfig } from '../core/hfConfig';
import type { ModelSite, SiteDetails } from './site';
import { visionConfigSite } from './vision';

export type ConfigResult = { ok: true; sites: ModelSite[] } | { ok: false; message: string };

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

function rawAttention(obj: Record<string, unknown>, d: SiteDetails): AttentionKind | null {
  const heads = int(obj.num_attention_heads) ?? int(obj.n_head) ?? int(obj.n_heads);
  const kvHeads =
    int(obj.num_key_value_heads) ??
    int(obj.num_kv_heads) ??
    int(obj.n_kv_heads) ??
    int(obj.n_head_kv) ??
    (obj.multi_query === true ? 1 : undefined) ??
    heads;
  if (heads !== undefined) d.heads = heads;
  if (kvHeads !== undefined) d.kvHeads = kvHeads;
  const hidden = int(obj.hidden_size) ?? int(obj.n_embd) ?? int(obj.d_model);
  if (hidden !== undefined) d.hidden = hidden;
  const layers = int(obj.num_hidden_layers) ?? int(obj.n_layer) ?? int(obj.n_layers);
  if (layers !== undefined) d.layers = layers;
  const kvRank = int(obj.kv_lora_rank);
  if (kvRank !== undefined) {
    d.kvRank = kvRank;
    return 'mla';
  }
  if (heads === undefined || kvHeads === undefined) return null;
  return kvHeads === heads ? 'mha' : kvHeads === 1 ? 'mqa' : 'gqa';
}

/** Sites of one config.json: none when the JSON is not a transformers config. */
export function configSites(file: string, text: string): ConfigResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `not valid JSON: ${(e as Error).message}` };
  }
  // Image models first (detect/vision.ts): a diffusers config has no model_type, a ViT's is not a text model's.
  const image =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? visionConfigSite(file, json as Record<string, unknown>)
      : null;
  if (image) return { ok: true, sites: [image] };
  if (!isHfConfig(json)) return { ok: true, sites: [] };
  const obj = json as Record<string, unknown>;
  const modelType = typeof obj.model_type === 'string' ? obj.model_type : '';
  const archs = Array.isArray(obj.architectures)
    ? obj.architectures.filter((a): a is string => typeof a === 'string')
    : [];
  const name = archs[0] ?? modelType;
  const d: SiteDetails = { modelType };
  let attention: AttentionKind | null;
  const parsed = parseHfConfig(json);
  if (parsed.ok) {
    const { arch, dtype } = parsed.value;
    const s = arch.shape;
    Object.assign(d, {
      layers: s.layers,
      hidden: s.hidden,
      heads: s.heads,
      kvHeads: s.kvHeads,
      headDim: s.headDim,
      ffn: s.ffn,
      vocab: s.vocab,
    });
    if (arch.mla) Object.assign(d, { kvRank: arch.mla.kvRank, qRank: arch.mla.qRank, ropeDim: arch.mla.ropeDim });
    if (arch.moe) Object.assign(d, { experts: arch.moe.experts, topK: arch.moe.topK, sharedExperts: arch.moe.shared });
    if (dtype) d.dtype = dtype;
    attention = arch.attention;
  } else {
    const e = parsed.errors[0];
    d.problem = `${e.field}: ${e.message}`;
    attention = rawAttention(obj, d);
  }
  // Sliding window as transformers reads it: a size, unless use_sliding_window says it is off (Qwen2).
  const window = int(obj.sliding_window);
  if (window !== undefined && obj.use_sliding_window !== false) d.slidingWindow = window;
  return { ok: true, sites: [{ file, line: 1, kind: 'config', attention, name, details: d }] };
}
