// Image transformers in Python source (issue 16): which file holds a ViT or a DiT, and the DiT block
// that carries its attention when the attention class itself is imported (the DiT paper's code builds
// `DiTBlock` on timm's `Attention`, so no q/k/v projection is in the workspace to find).
//
// * DiT: a class whose __init__ assigns `adaLN_modulation` (the adaLN-Zero conditioning of the DiT
//   paper) marks the file; such a class that also assigns a module built by a callee named
//   `…Attention` (timm's, diffusers') is an attention site of its own: MHA, as those classes are.
// * ViT: a class that assigns both `patch_embed` and `cls_token` (timm's VisionTransformer, the ViT
//   paper's x_class and E) marks the file.
// The attention sites of a marked file say `details.family`, so an estimate reads them as image
// models (bidirectional attention over patches), not text decoders.
import type { VisionFamily } from '../core/config';
import type { ClassFact } from './pythonFacts';
import type { ModelSite } from './site';

const ATTENTION_CALLEE = /(?:^|\.)\w*Attention$/;

const assigns = (c: ClassFact, target: string): boolean => c.initAssigns.some((a) => a.target === target);

/** The image family the file's classes show, if any; DiT first (its blocks may sit beside a ViT's). */
export function fileVisionFamily(classes: readonly ClassFact[]): VisionFamily | undefined {
  if (classes.some((c) => assigns(c, 'adaLN_modulation'))) return 'dit';
  if (classes.some((c) => assigns(c, 'patch_embed') && assigns(c, 'cls_token'))) return 'vit';
  return undefined;
}

/** A DiT block built on an imported attention class: an MHA attention site, heads and width where bound. */
export function ditBlockSite(c: ClassFact, file: string, row: number): ModelSite | null {
  if (!assigns(c, 'adaLN_modulation')) return null;
  const attn = c.initAssigns.find((a) => a.callee !== null && ATTENTION_CALLEE.test(a.callee));
  if (!attn || attn.callee === null) return null;
  const details: ModelSite['details'] = {
    evidence: [attn.callee, 'adaLN_modulation'],
    family: 'dit',
  };
  // DiT's blocks take the width and head count as parameters (hidden_size, num_heads).
  if (c.initParamNames.includes('num_heads')) details.headsFrom = 'num_heads';
  return { file, line: row + 1, kind: 'attention', attention: 'mha', name: c.name, details };
}

/** The file's attention sites with `family` set when the file is a ViT or DiT; others as they are. */
export function tagVisionSites(sites: ModelSite[], classes: readonly ClassFact[]): ModelSite[] {
  const family = fileVisionFamily(classes);
  if (family === undefined) return sites;
  return sites.map((s) => (s.kind === 'attention' ? { ...s, details: { ...s.details, family } } : s));
}

// ---- config.json of image models ----

/** transformers' model_type of ViT-style encoders: a patch embedding, a class token (SigLIP: none), MHA. */
export const HF_VISION_MODEL_TYPES = ['vit', 'dinov2', 'siglip_vision_model'] as const;
/** diffusers' transformer classes of DiT-style models (transformer/config.json's `_class_name`). */
export const DIFFUSERS_DIT_CLASSES = ['DiTTransformer2DModel', 'Transformer2DModel'] as const;

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;

/**
 * A `config` site for a ViT-family transformers config or a diffusers DiT transformer config; null
 * for anything else (text models are hfConfigSite's). Only numbers the file states are given.
 */
export function visionConfigSite(file: string, obj: Record<string, unknown>): ModelSite | null {
  const set = (
    d: ModelSite['details'],
    key: 'layers' | 'hidden' | 'heads' | 'kvHeads' | 'headDim' | 'ffn' | 'vocab',
    v: unknown,
  ): void => {
    const n = count(v);
    if (n !== undefined) d[key] = n;
  };
  const modelType = typeof obj.model_type === 'string' ? obj.model_type : undefined;
  if (modelType !== undefined && (HF_VISION_MODEL_TYPES as readonly string[]).includes(modelType)) {
    const d: ModelSite['details'] = { modelType, family: 'vit' };
    set(d, 'layers', obj.num_hidden_layers);
    set(d, 'hidden', obj.hidden_size);
    set(d, 'heads', obj.num_attention_heads);
    set(d, 'kvHeads', obj.num_attention_heads); // ViT encoders are MHA
    set(d, 'ffn', obj.intermediate_size);
    if (obj.id2label !== null && typeof obj.id2label === 'object') set(d, 'vocab', Object.keys(obj.id2label).length);
    d.evidence = ['model_type', ...['image_size', 'patch_size'].filter((k) => k in obj)];
    const archs = Array.isArray(obj.architectures) ? obj.architectures.filter((a) => typeof a === 'string') : [];
    return {
      file,
      line: 1,
      kind: 'config',
      attention: 'mha',
      name: (archs[0] as string | undefined) ?? modelType,
      details: d,
    };
  }
  const cls = typeof obj._class_name === 'string' ? obj._class_name : undefined;
  if (cls === undefined || !(DIFFUSERS_DIT_CLASSES as readonly string[]).includes(cls)) return null;
  // Transformer2DModel is also the PixArt and latent-diffusion transformer; DiT's has adaLN with class labels.
  if (cls === 'Transformer2DModel' && obj.norm_type !== 'ada_norm_zero') return null;
  const d: ModelSite['details'] = { modelType: cls, family: 'dit' };
  set(d, 'layers', obj.num_layers);
  set(d, 'heads', obj.num_attention_heads);
  set(d, 'kvHeads', obj.num_attention_heads);
  set(d, 'headDim', obj.attention_head_dim);
  const heads = count(obj.num_attention_heads);
  const headDim = count(obj.attention_head_dim);
  if (heads !== undefined && headDim !== undefined) d.hidden = heads * headDim;
  set(d, 'vocab', obj.num_embeds_ada_norm); // the class labels of adaLN-Zero
  d.evidence = ['_class_name', ...['norm_type', 'patch_size', 'sample_size'].filter((k) => k in obj)];
  return { file, line: 1, kind: 'config', attention: 'mha', name: cls, details: d };
}
