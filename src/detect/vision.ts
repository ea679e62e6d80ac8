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
