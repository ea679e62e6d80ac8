// The instant estimate of a detected site: the numbers the detector found, turned into the
// estimator's ModelArch where they are enough. No `vscode` here (the CodeLens benchmark and the unit
// tests run it in plain Node).
//  * A whole model (a config.json, or a site with layers, hidden, heads, ffn and vocab): parameters,
//    weight memory and KV cache per 1k tokens, from estimate.ts exactly as `efficientllm estimate`.
//  * An attention class whose head counts are literals: the same figures for one layer's attention
//    (its q/k/v/o projections and its cache), labelled "per layer".
//  * Anything else (head counts read from `config.*`): no numbers, only what was detected.
import { PRECISIONS, type Precision } from '../core/config';
import {
  countParams,
  estimateModel,
  kvBytesPerToken,
  kvElementBytes,
  weightBytes,
  type ModelArch,
} from '../core/estimate';
import { parseHfConfig } from '../core/hfConfig';
import type { ModelSite } from '../detect/site';

export interface SiteEstimate {
  /** "model": the whole network; "layer": one attention layer (heads known, depth not). */
  scope: 'model' | 'layer';
  precision: Precision;
  params: number;
  weightBytes: number;
  /** KV cache for 1,000 tokens of context, batch 1 (all layers for "model", one for "layer"). */
  kvBytesPer1k: number;
  arch: ModelArch;
}

export const isPrecision = (v: unknown): v is Precision =>
  typeof v === 'string' && (PRECISIONS as readonly string[]).includes(v);

/** The precision a site runs at: its own dtype when the code or config says, else the fallback. */
export function sitePrecision(site: ModelSite, fallback: Precision): Precision {
  const d = site.details;
  if (isPrecision(d.precision)) return d.precision;
  if (isPrecision(d.dtype)) return d.dtype;
  return fallback;
}

/**
 * The whole model's arch: a config.json's text is parsed as transformers would read it (exact);
 * other sites need every shape number as a literal.
 */
export function modelArchOf(site: ModelSite, text?: string): ModelArch | null {
  if (site.kind === 'config' && text !== undefined) {
    try {
      const parsed = parseHfConfig(JSON.parse(text));
      if (parsed.ok) return parsed.value.arch;
    } catch {
      // fall through to the details: the buffer may be mid-edit and not JSON right now
    }
  }
  const d = site.details;
  const { layers, hidden, heads, ffn, vocab } = d;
  if (layers === undefined || hidden === undefined || heads === undefined || ffn === undefined || vocab === undefined)
    return null;
  if (site.kind !== 'config' && site.kind !== 'attention') return null;
  const attention = site.attention ?? 'mha';
  const kvHeads = d.kvHeads ?? (attention === 'mqa' ? 1 : heads);
  const headDim = d.headDim ?? Math.floor(hidden / heads);
  // GPT-2 blocks (nanoGPT, detect's `block`): counted as GPT2LMHeadModel is, exactly as its config.json.
  if (d.block === 'gpt2' && attention === 'mha')
    return {
      family: 'gpt2',
      shape: { layers, hidden, heads, kvHeads: heads, headDim, ffn, vocab },
      attention: 'mha',
      mla: null,
      nsa: null,
      moe: null,
      tiedEmbeddings: true,
      qkvBias: true,
      positions: d.positions ?? 1024,
    };
  return {
    family: d.modelType === 'gpt2' ? 'gpt2' : 'decoder',
    shape: { layers, hidden, heads, kvHeads, headDim, ffn, vocab },
    attention,
    mla:
      attention === 'mla' && d.kvRank !== undefined
        ? { kvRank: d.kvRank, qRank: d.qRank ?? 0, ropeDim: d.ropeDim ?? 64, qkNopeDim: headDim, vHeadDim: headDim }
        : null,
    nsa: null,
    moe:
      d.experts !== undefined && d.topK !== undefined
        ? {
            experts: d.experts,
            topK: d.topK,
            shared: d.sharedExperts ?? 0,
            expertFfn: ffn,
            firstDense: 0,
            layerFreq: 1,
            routerBias: false,
          }
        : null,
    tiedEmbeddings: false,
    qkvBias: false,
    positions: 0,
  };
}

/** One attention layer's arch (no MLP, no embedding), when the head counts are literals. */
export function layerArchOf(site: ModelSite): ModelArch | null {
  if (site.kind !== 'attention' || site.attention === null) return null;
  const d = site.details;
  const heads = d.heads;
  const hidden = d.hidden ?? (heads !== undefined && d.headDim !== undefined ? heads * d.headDim : undefined);
  if (heads === undefined || hidden === undefined) return null;
  const kind = site.attention;
  // MLA caches a latent, not per-head keys: its head count stands in for the (unused) KV heads.
  const kvHeads = d.kvHeads ?? (kind === 'mqa' ? 1 : kind === 'mha' || kind === 'mla' ? heads : undefined);
  if (kvHeads === undefined) return null;
  const headDim = d.headDim ?? Math.floor(hidden / heads);
  if (kind === 'mla' && d.kvRank === undefined) return null;
  return {
    family: 'decoder',
    shape: { layers: 1, hidden, heads, kvHeads, headDim, ffn: 0, vocab: 0 },
    attention: kind,
    mla:
      kind === 'mla' && d.kvRank !== undefined
        ? { kvRank: d.kvRank, qRank: d.qRank ?? 0, ropeDim: d.ropeDim ?? 64, qkNopeDim: headDim, vHeadDim: headDim }
        : null,
    nsa:
      kind === 'nsa'
        ? {
            block: d.blockSize ?? 64,
            selected: d.selectedBlocks ?? 4,
            window: typeof d.slidingWindow === 'number' ? d.slidingWindow : 128,
          }
        : null,
    moe: null,
    tiedEmbeddings: true,
    qkvBias: false,
    positions: 0,
  };
}

/** The instant estimate of a site at `precision`, or null when the code does not pin the numbers down. */
export function estimateSite(site: ModelSite, precision: Precision, text?: string): SiteEstimate | null {
  // An image model's site (detect/vision.ts) is no text decoder: a decoder's KV cache per 1k tokens would
  // be wrong for it, and its image size and patch are not in the site, so no numbers rather than those.
  if (site.details.family !== undefined) return null;
  const model = modelArchOf(site, text);
  if (model) {
    const e = estimateModel(model, { precision, batch: 1, seqLen: 1000, gpu: null });
    return {
      scope: 'model',
      precision,
      params: e.params,
      weightBytes: e.weightBytes,
      kvBytesPer1k: e.kvBytesPerToken * 1000,
      arch: model,
    };
  }
  const layer = layerArchOf(site);
  if (layer) {
    // The one-layer arch still carries its input/post-attention norms and the final norm (3 × hidden);
    // they are not attention weights, so they are taken out again.
    const norms = 3 * layer.shape.hidden;
    return {
      scope: 'layer',
      precision,
      params: countParams(layer) - norms,
      weightBytes: weightBytes(layer, precision) - norms * kvElementBytes(precision),
      kvBytesPer1k: kvBytesPerToken(layer, precision) * 1000,
      arch: layer,
    };
  }
  return null;
}
