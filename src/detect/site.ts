// ModelSite: one place in the user's code or checkpoint that the extension annotates and can
// estimate instantly. The shape is the `detect --json` contract of DESIGN.md; `details` carries every
// number found so no later step has to re-read the file.
import type { AttentionKind, PeftMethod, Precision, VisionFamily } from '../core/config';

export const SITE_KINDS = ['attention', 'moe', 'peft', 'quantization', 'load', 'config'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

/** Where a number came from when the code names a field instead of a literal, e.g. "config.num_key_value_heads". */
export type FieldRef = string;

/** The shape numbers a site can state. */
export type ShapeField = 'layers' | 'hidden' | 'heads' | 'kvHeads' | 'headDim' | 'ffn' | 'vocab';

export interface SiteDetails {
  // Shape (attention sites and config.json).
  heads?: number;
  kvHeads?: number;
  /** The expression or config field the head counts come from, when it is not a literal in this file. */
  headsFrom?: FieldRef;
  kvHeadsFrom?: FieldRef;
  hidden?: number;
  headDim?: number;
  layers?: number;
  ffn?: number;
  vocab?: number;
  /** MLA: latent ranks and the decoupled RoPE key width. */
  kvRank?: number;
  qRank?: number;
  ropeDim?: number;
  /** NSA: which of the compressed / selected / sliding branches the code has. */
  nsaBranches?: string[];
  blockSize?: number;
  selectedBlocks?: number;
  /** Sliding-window attention: the window in tokens when known, `true` when the code has one of unknown size. */
  slidingWindow?: number | true;
  /** How the scores are computed: sdpa, flash_attn, xformers, flex, eager. */
  kernel?: string;
  /** The code features the classification rests on, e.g. ["q_proj", "k_proj", "v_proj", "repeat_kv"]. */
  evidence?: string[];
  /** An image model's attention (detect/vision.ts): bidirectional over patches, counted in images. */
  family?: VisionFamily;
  // MoE.
  experts?: number;
  expertsFrom?: FieldRef;
  topK?: number;
  topKFrom?: FieldRef;
  sharedExperts?: number;
  // PEFT.
  method?: PeftMethod;
  rank?: number;
  alpha?: number;
  dropout?: number;
  useRslora?: boolean;
  useDora?: boolean;
  targetModules?: string[] | string;
  // Loading and quantization.
  model?: string;
  /** The source text of the model argument when it is not a string this file pins down. */
  modelFrom?: string;
  dtype?: Precision | 'auto' | string;
  precision?: Precision;
  loadIn4bit?: boolean;
  loadIn8bit?: boolean;
  quantType?: string;
  computeDtype?: Precision | string;
  doubleQuant?: boolean;
  quantizationConfig?: string;
  deviceMap?: string;
  attnImplementation?: string;
  adapter?: boolean;
  /** Checkpoints the code allows where the model argument is a variable (an `assert name in {…}` above the call). */
  modelChoices?: string[];
  /**
   * Where each shape number came from, in words ("GPTConfig.n_layer", "MLP.c_fc"): the Launcher says
   * it beside the number. Only for numbers this file pins down.
   */
  shapeFrom?: Partial<Record<ShapeField, string>>;
  /**
   * "gpt2" when the file's blocks are GPT-2's (nanoGPT): a two-matrix GELU MLP (`c_fc`, no gate),
   * learned positions (`positions` of them) and tied embeddings; absent for Llama-style blocks.
   */
  block?: 'gpt2';
  positions?: number;
  /** The config class (a dataclass such as `GPTConfig` or `ModelArgs`) whose defaults give the shape. */
  configClass?: string;
  // config.json.
  modelType?: string;
  /** Why config.json could not be read as a supported model (the first field error). */
  problem?: string;
}

export interface ModelSite {
  /** Path as given to the detector (the CLI makes it relative to cwd). */
  file: string;
  /** 1-based line of the class, call or config. */
  line: number;
  kind: SiteKind;
  /** The attention variant for attention and config sites; null for every other kind. */
  attention: AttentionKind | null;
  /** Class name, callee (`LoraConfig`, `AutoModelForCausalLM.from_pretrained`) or config model_type. */
  name: string;
  details: SiteDetails;
}

/** Files, then lines, then kind: the order `detect --json` prints. */
export function compareSites(a: ModelSite, b: ModelSite): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A file the detector could not read or understand; never fatal for the others. */
export interface DetectProblem {
  file: string;
  message: string;
}
