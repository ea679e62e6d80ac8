// The whole model's shape as one file states it: the depth, vocabulary and FFN width that an
// attention class does not hold but the file's config defaults do (nanoGPT's `GPTConfig`, Meta's
// `ModelArgs`, DeepSeek-V3's `ModelArgs`), each with where it came from. An attention site whose head
// counts this file pins down is given these numbers, so the Launcher proposes the user's model rather
// than a preset. Numbers that cannot be pinned down are left out, never guessed.
import { FFN, FFN_UP, HEADS, HEAD_DIM, HIDDEN, KV_HEADS, LAYERS, VOCAB } from './names';
import type { ClassFact } from './pythonFacts';
import { Scope, asCount, splitArgs } from './resolve';
import type { ModelSite, ShapeField, SiteDetails } from './site';

export interface FileShape {
  layers?: number;
  vocab?: number;
  ffn?: number;
  from: Partial<Record<ShapeField, string>>;
  /** The class whose fields gave most of the numbers. */
  configClass?: string;
  /** GPT-2 blocks (see SiteDetails.block), with their learned positions when the file states them. */
  block?: 'gpt2';
  positions?: number;
}

/** GPT-2's MLP: `c_fc` up, no gate beside it (a Llama MLP has w1/w3 or gate_proj/up_proj). */
function isGpt2Mlp(c: ClassFact): boolean {
  const t = new Set(c.initAssigns.map((a) => a.target));
  return t.has('c_fc') && !t.has('gate_proj') && !t.has('w3') && !t.has('c_fc2');
}

/** The class (in file order) whose class-level fields bind `name` to `value`. */
function fieldOwner(classes: readonly ClassFact[], fileScope: Scope, name: string, value: number): string | undefined {
  for (const c of classes) {
    const text = c.fields.get(name);
    if (text !== undefined && asCount(fileScope.resolve(text)) === value) return c.name;
  }
  return undefined;
}

/** `name` resolved through the file's constants, with its source ("GPTConfig.n_layer" or "n_layer"). */
function fromNames(
  names: readonly string[],
  classes: readonly ClassFact[],
  fileScope: Scope,
): { value: number; from: string; owner?: string } | undefined {
  for (const n of names) {
    const value = asCount(fileScope.resolveName(n));
    if (value === undefined) continue;
    const owner = fieldOwner(classes, fileScope, n, value);
    return { value, from: owner ? `${owner}.${n}` : n, owner };
  }
  return undefined;
}

function classScope(c: ClassFact, fileScope: Scope): Scope {
  const own = new Map<string, string>();
  for (const a of c.initAssigns) if (!own.has(a.target)) own.set(a.target, a.value);
  return fileScope.withFirst(c.fields).withFirst(c.initParams).withFirst(own);
}

const LINEAR = /(?:^|\.)\w*Linear$/;
const ATTENTION_PROJECTIONS = new Set([
  'q_proj',
  'k_proj',
  'c_attn',
  'wq',
  'wq_b',
  'qkv',
  'query',
  'wkv_a',
  'q_a_proj',
]);

/** The output width of an FFN's up projection `nn.Linear(in, out)`, read in its class's scope. */
function upProjection(classes: readonly ClassFact[], fileScope: Scope): { value: number; from: string } | undefined {
  for (const c of classes) {
    // An attention class's gate (NSA's branch gate_proj) is not an FFN.
    if (c.initAssigns.some((a) => ATTENTION_PROJECTIONS.has(a.target))) continue;
    const up = c.initAssigns.find((a) => FFN_UP.includes(a.target) && a.callee !== null && LINEAR.test(a.callee));
    if (!up) continue;
    const open = up.value.indexOf('(');
    const close = up.value.lastIndexOf(')');
    if (open < 0 || close < open) continue;
    const args = splitArgs(up.value.slice(open + 1, close));
    const named = args.map((a) => /^out_features\s*=\s*([\s\S]+)$/.exec(a)).find((m) => m !== null);
    const positional = args.filter((a) => !/^\w+\s*=/.test(a));
    const out = named ? named[1] : positional[1];
    if (out === undefined) continue;
    const scope = classScope(c, fileScope);
    const value = asCount(scope.resolve(out));
    if (value !== undefined) return { value, from: `${c.name}.${up.target}` };
    const meta = metaRule(c, fileScope);
    if (meta) return meta;
  }
  return undefined;
}

/**
 * Meta's Llama FeedForward: 4 × dim, two thirds of it, times `ffn_dim_multiplier` when set, rounded
 * up to `multiple_of` (llama/model.py, Llama 2 and 3 alike; Llama-3-8B: 4096 → 14336).
 */
function metaRule(c: ClassFact, fileScope: Scope): { value: number; from: string } | undefined {
  const rounds = c.initAssigns.some((a) => a.target === 'hidden_dim' && /\bmultiple_of\b/.test(a.value));
  if (!rounds || !c.initParamNames.includes('multiple_of')) return undefined;
  const dim = asCount(fileScope.resolveName('dim'));
  const multipleOf = asCount(fileScope.resolveName('multiple_of'));
  if (dim === undefined || multipleOf === undefined) return undefined;
  const multiplier = c.initParamNames.includes('ffn_dim_multiplier')
    ? fileScope.resolveName('ffn_dim_multiplier')
    : null;
  if (multiplier !== null && typeof multiplier !== 'number') return undefined;
  let hidden = Math.trunc((2 * 4 * dim) / 3);
  if (typeof multiplier === 'number') hidden = Math.trunc(multiplier * hidden);
  hidden = multipleOf * Math.ceil(hidden / multipleOf);
  return { value: hidden, from: `${c.name} (4 × dim rounded to multiple_of ${multipleOf})` };
}

/** The depth, vocabulary and FFN width this file's constants and classes state. */
export function fileShape(
  classes: readonly ClassFact[],
  fileScope: Scope,
  want: { ffn: boolean } = { ffn: true },
): FileShape {
  const shape: FileShape = { from: {} };
  const owners: string[] = [];
  const layers = fromNames(LAYERS, classes, fileScope);
  if (layers) {
    shape.layers = layers.value;
    shape.from.layers = layers.from;
    if (layers.owner) owners.push(layers.owner);
  }
  const vocab = fromNames(VOCAB, classes, fileScope);
  if (vocab) {
    shape.vocab = vocab.value;
    shape.from.vocab = vocab.from;
    if (vocab.owner) owners.push(vocab.owner);
  }
  const ffn = want.ffn ? (fromNames(FFN, classes, fileScope) ?? upProjection(classes, fileScope)) : undefined;
  if (ffn) {
    shape.ffn = ffn.value;
    shape.from.ffn = ffn.from;
  }
  if (owners.length > 0) shape.configClass = owners[0];
  if (classes.some(isGpt2Mlp)) {
    shape.block = 'gpt2';
    const positions = fromNames(['n_positions', 'block_size', 'max_position_embeddings'], classes, fileScope);
    if (positions) shape.positions = positions.value;
  }
  return shape;
}

/**
 * The attention site with the file's shape added, when its head counts are pinned down in this file
 * (otherwise the numbers may belong to another model than the one the class is built from). A new
 * object: cached verdicts are shared.
 */
export function withFileShape(
  site: ModelSite,
  shape: FileShape,
  classes: readonly ClassFact[],
  fileScope: Scope,
): ModelSite {
  const d = site.details;
  if (site.kind !== 'attention' || d.heads === undefined) return site;
  // The class must be built from the file's config: its heads are the heads the file's constants
  // bind (a class with literal defaults of its own is another model than the config's).
  const heads = d.heads;
  if (!HEADS.some((n) => asCount(fileScope.resolveName(n)) === heads)) return site;
  const details: SiteDetails = { ...d };
  const from: Partial<Record<ShapeField, string>> = {};
  const say = (key: ShapeField, names: readonly string[], value: number | undefined): void => {
    if (value === undefined) return;
    for (const n of names) {
      const owner = fieldOwner(classes, fileScope, n, value);
      if (owner) {
        from[key] = `${owner}.${n}`;
        return;
      }
    }
  };
  say('heads', HEADS, d.heads);
  say('kvHeads', KV_HEADS, d.kvHeads);
  say('hidden', HIDDEN, d.hidden);
  say('headDim', HEAD_DIM, d.headDim);
  if (details.layers === undefined && shape.layers !== undefined) details.layers = shape.layers;
  if (details.vocab === undefined && shape.vocab !== undefined) details.vocab = shape.vocab;
  if (details.ffn === undefined && shape.ffn !== undefined) details.ffn = shape.ffn;
  for (const k of ['layers', 'vocab', 'ffn'] as const)
    if (details[k] === shape[k] && shape.from[k] !== undefined) from[k] = shape.from[k];
  if (Object.keys(from).length > 0) details.shapeFrom = from;
  if (shape.configClass !== undefined) details.configClass = shape.configClass;
  if (shape.block !== undefined) details.block = shape.block;
  if (shape.positions !== undefined) details.positions = shape.positions;
  return { ...site, details };
}
