// Facts → sites: which classes are attention or MoE blocks and which variant, and what each
// LoraConfig / quantization config / from_pretrained call says. Pure; rows are made absolute by the
// caller.
import type { AttentionKind, Precision } from '../core/config';
import type { CallFact, ClassFact } from './pythonFacts';
import {
  EXPERTS,
  HEADS,
  HEAD_DIM,
  HIDDEN,
  KV_HEADS,
  KV_RANK,
  NSA_BLOCK,
  NSA_SELECTED,
  Q_RANK,
  ROPE_DIM,
  SHARED,
  TOP_K,
  WINDOW,
} from './names';
import { Scope, asCount, refName, stringList, type Layer, type Resolved } from './resolve';
import type { ModelSite, SiteDetails } from './site';
import { ditBlockSite, tagVisionSites } from './vision';

/** A class or call fact with its absolute 0-based row. */
export interface Placed<T> {
  fact: T;
  row: number;
}

const Q = new Set([
  'q_proj',
  'q',
  'wq',
  'query',
  'to_q',
  'W_q',
  'w_q',
  'Wq',
  'q_linear',
  'query_proj',
  'q_lin',
  'linear_q',
  'q_a_proj',
  'q_b_proj',
  'wq_a',
  'wq_b',
]);
const K = new Set([
  'k_proj',
  'k',
  'wk',
  'key',
  'to_k',
  'W_k',
  'w_k',
  'Wk',
  'k_linear',
  'key_proj',
  'k_lin',
  'linear_k',
]);
const V = new Set([
  'v_proj',
  'v',
  'wv',
  'value',
  'to_v',
  'W_v',
  'w_v',
  'Wv',
  'v_linear',
  'value_proj',
  'v_lin',
  'linear_v',
]);
const KV = new Set(['kv_proj', 'wkv', 'to_kv', 'kv', 'kv_linear', 'W_kv', 'w_kv', 'kv_b_proj', 'wkv_b']);
const FUSED = new Set([
  'c_attn',
  'qkv',
  'qkv_proj',
  'Wqkv',
  'wqkv',
  'in_proj',
  'query_key_value',
  'to_qkv',
  'qkv_linear',
  'w_qkv',
  'att_qkv',
]);
const MLA_DOWN = /^(?:kv_a_proj(?:_with_mqa)?|wkv_a|kv_down(?:_proj)?|w_dkv|W_dkv|kv_compress(?:_proj)?|c_kv|kv_a)$/;
const GATES = new Set(['gate', 'router', 'w_gate', 'gating', 'gate_network', 'switch', 'wg', 'router_gate']);
const KERNELS: [RegExp, string][] = [
  [/^scaled_dot_product_attention$/, 'sdpa'],
  [/^flash_attn/, 'flash_attn'],
  [/^memory_efficient_attention$/, 'xformers'],
  [/^flex_attention$/, 'flex'],
];

interface Found {
  value: number | undefined;
  /** The expression the value comes from, when it is a reference this file does not pin down. */
  from: string | undefined;
  present: boolean;
}

/** `ClassView.mention`'s pattern for each name asked (the names are the fixed lists of names.ts). */
const MENTIONS = new Map<string, RegExp>();

/** One class with its inherited facts (bases defined in the same file) flattened in. */
class ClassView {
  readonly scope: Scope;
  readonly assigns: ClassFact['initAssigns'];
  readonly words: Set<string>;
  readonly paramNames: Set<string>;
  /** Every identifier-like word in `__init__`'s values. */
  readonly refs: Set<string>;
  private readonly values: string[];
  /** The first assignment to each target (what `assigns.find` by target gives). */
  private readonly firstAssign = new Map<string, ClassFact['initAssigns'][number]>();
  private moduleNames: Set<string> | undefined;

  constructor(
    readonly fact: ClassFact,
    chain: readonly ClassFact[],
    fileScope: Scope,
  ) {
    const own = new Map<string, string>();
    const params = new Map<string, string>();
    const fields = new Map<string, string>();
    this.assigns = [];
    this.words = new Set();
    this.paramNames = new Set();
    // The first class in the chain that defines __init__ is the one that runs.
    const init = chain.find((c) => c.hasInit);
    for (const c of chain) {
      for (const w of c.words) this.words.add(w);
      for (const [k, v] of c.fields) if (!fields.has(k)) fields.set(k, v);
    }
    if (init) {
      this.assigns.push(...init.initAssigns);
      for (const a of init.initAssigns) if (!own.has(a.target)) own.set(a.target, a.value);
      for (const [k, v] of init.initParams) params.set(k, v);
      for (const p of init.initParamNames) this.paramNames.add(p);
    }
    this.scope = fileScope.withFirst(fields).withFirst(params).withFirst(own);
    for (const a of this.assigns) if (!this.firstAssign.has(a.target)) this.firstAssign.set(a.target, a);
    this.values = this.assigns.map((a) => a.value);
    this.refs = new Set();
    for (const v of this.values) for (const w of v.match(/[A-Za-z_]\w*/g) ?? []) this.refs.add(w);
  }

  /** Names of attributes assigned a call (modules, mostly) in __init__. */
  get modules(): Set<string> {
    this.moduleNames ??= new Set(this.assigns.filter((a) => a.callee !== null).map((a) => a.target));
    return this.moduleNames;
  }

  /** The dotted expression in __init__ that mentions `name`, e.g. "config.num_key_value_heads". */
  private mention(name: string): string | undefined {
    let re = MENTIONS.get(name);
    if (re === undefined) {
      re = new RegExp(`(?:[A-Za-z_]\\w*\\s*\\.\\s*)*${name}\\b|[A-Za-z_][\\w.]*\\[\\s*["']${name}["']\\s*\\]`);
      MENTIONS.set(name, re);
    }
    for (const v of this.values) {
      const m = re.exec(v);
      if (m) return m[0].replace(/\s+/g, '');
    }
    return undefined;
  }

  /**
   * The value of the first of `names` that the class binds, takes as a parameter, or mentions. When
   * it is not pinned down, `from` is the plain field it is read from (`config.n_head`), never a
   * compound expression: that is said as "from config.n_head" or left out, not shown raw.
   */
  find(names: readonly string[], alsoWords = false): Found {
    const f = this.findRaw(names, alsoWords);
    return f.from !== undefined && refName(f.from) === null ? { ...f, from: undefined } : f;
  }

  private findRaw(names: readonly string[], alsoWords: boolean): Found {
    for (const n of names) {
      const a = this.firstAssign.get(n);
      if (a) {
        const v = asCount(this.scope.resolveName(n));
        return {
          value: v,
          from:
            v === undefined
              ? refName(a.value) !== null
                ? a.value.replace(/\s+/g, '')
                : (this.mention(n) ?? a.value.replace(/\s+/g, ''))
              : undefined,
          present: true,
        };
      }
    }
    for (const n of names) {
      if (this.paramNames.has(n)) {
        const v = asCount(this.scope.resolveName(n, 1));
        return { value: v, from: v === undefined ? n : undefined, present: true };
      }
    }
    for (const n of names) {
      if (this.refs.has(n) || (alsoWords && this.words.has(n))) {
        const v = asCount(this.scope.resolveName(n, 3));
        return { value: v, from: v === undefined ? (this.mention(n) ?? n) : undefined, present: true };
      }
    }
    return { value: undefined, from: undefined, present: false };
  }
}

function setNumber(
  d: SiteDetails,
  key:
    | 'heads'
    | 'kvHeads'
    | 'hidden'
    | 'headDim'
    | 'kvRank'
    | 'qRank'
    | 'ropeDim'
    | 'blockSize'
    | 'selectedBlocks'
    | 'experts'
    | 'topK'
    | 'sharedExperts',
  f: Found,
): void {
  if (f.value !== undefined) d[key] = f.value;
}

function kernelOf(words: Set<string>): string | undefined {
  for (const [re, name] of KERNELS) for (const w of words) if (re.test(w)) return name;
  return undefined;
}

function attentionSite(view: ClassView, file: string, row: number): ModelSite | null {
  const mods = view.modules;
  const has = (set: Set<string>): string[] => [...mods].filter((m) => set.has(m));
  const q = has(Q);
  const k = has(K);
  const v = has(V);
  const kv = has(KV);
  const fused = has(FUSED);
  const down = [...mods].filter((m) => MLA_DOWN.test(m));
  const kernel = kernelOf(view.words);
  const isAttention =
    (q.length > 0 && k.length > 0 && v.length > 0) ||
    fused.length > 0 ||
    (q.length > 0 && kv.length > 0) ||
    down.length > 0 ||
    kernel !== undefined;
  if (!isAttention) return null;

  const d: SiteDetails = {};
  const heads = view.find(HEADS);
  const kvHeads = view.find(KV_HEADS, true);
  setNumber(d, 'heads', heads);
  setNumber(d, 'kvHeads', kvHeads);
  if (heads.from !== undefined) d.headsFrom = heads.from;
  if (kvHeads.from !== undefined) d.kvHeadsFrom = kvHeads.from;
  setNumber(d, 'hidden', view.find(HIDDEN));
  setNumber(d, 'headDim', view.find(HEAD_DIM));

  const evidence = [...q, ...k, ...v, ...kv, ...fused, ...down];
  const word = (w: string): boolean => view.words.has(w);
  const repeat = ['repeat_kv', 'repeat_interleave'].filter(word);
  evidence.push(...repeat);

  // MLA: a low-rank KV projection, or the DeepSeek config names for the latent ranks.
  const kvRank = view.find(KV_RANK, true);
  const qRank = view.find(Q_RANK, true);
  // NSA: the three branches of Native Sparse Attention, or its name.
  const branches: string[] = [];
  const names = [...mods, ...view.words];
  if (names.some((n) => /compress|^cmp_/.test(n))) branches.push('compressed');
  if (names.some((n) => /^select|^slc_|_select/.test(n))) branches.push('selected');
  if (names.some((n) => /sliding|^swa_|window/.test(n))) branches.push('sliding');
  const nsaNamed =
    /nsa|native_?sparse/i.test(view.fact.name) || [...view.words].some((w) => /^native_sparse|^nsa/.test(w));
  const isNsa = nsaNamed || (branches.includes('compressed') && branches.length >= 2 && !kvRank.present);

  let attention: AttentionKind;
  if (down.length > 0 || kvRank.present || qRank.present) {
    attention = 'mla';
    setNumber(d, 'kvRank', kvRank);
    setNumber(d, 'qRank', qRank);
    setNumber(d, 'ropeDim', view.find(ROPE_DIM, true));
    if (kvRank.present) evidence.push('kv_lora_rank');
  } else if (isNsa) {
    attention = 'nsa';
    d.nsaBranches = branches;
    setNumber(d, 'blockSize', view.find(NSA_BLOCK, true));
    setNumber(d, 'selectedBlocks', view.find(NSA_SELECTED, true));
  } else if (d.heads !== undefined && d.kvHeads !== undefined) {
    attention = d.kvHeads === d.heads ? 'mha' : d.kvHeads === 1 ? 'mqa' : 'gqa';
  } else if (d.kvHeads !== undefined) {
    attention = d.kvHeads === 1 ? 'mqa' : 'gqa';
  } else if (kvHeads.present || repeat.length > 0) {
    // The code keeps fewer KV heads than query heads and repeats them; how many is in the config.
    attention = 'gqa';
  } else {
    attention = 'mha';
  }

  const window = view.find(WINDOW, true);
  if (window.present) d.slidingWindow = window.value ?? true;
  d.kernel = kernel ?? 'eager';
  if (kernel !== undefined) evidence.push([...view.words].find((w) => KERNELS.some(([re]) => re.test(w))) ?? kernel);
  d.evidence = [...new Set(evidence)];
  return { file, line: row + 1, kind: 'attention', attention, name: view.fact.name, details: d };
}

function moeSite(view: ClassView, file: string, row: number): ModelSite | null {
  const mods = view.modules;
  // `self.experts = nn.ModuleList(…)` or a list of modules — not a count like `self.num_experts`.
  const experts = view.assigns.filter(
    (a) =>
      /(?:^|_)experts$/.test(a.target) &&
      !/^(?:n|num)_|shared/.test(a.target) &&
      (a.callee !== null || a.value.trimStart().startsWith('[')),
  );
  const gates = [...mods].filter((m) => GATES.has(m));
  const expertCount = view.find(EXPERTS);
  if (experts.length === 0 && !(gates.length > 0 && expertCount.present)) return null;
  const d: SiteDetails = {};
  setNumber(d, 'experts', expertCount);
  if (d.experts === undefined) {
    // nn.ModuleList([Expert() for _ in range(8)])
    const range = experts.map((a) => /range\(\s*([^()]+?)\s*\)/.exec(a.value)).find((m) => m !== null);
    const n = range ? asCount(view.scope.resolve(range[1])) : undefined;
    if (n !== undefined) d.experts = n;
    else if (expertCount.from !== undefined) d.expertsFrom = expertCount.from;
  }
  const topK = view.find(TOP_K);
  setNumber(d, 'topK', topK);
  if (topK.from !== undefined) d.topKFrom = topK.from;
  const shared = view.find(SHARED);
  setNumber(d, 'sharedExperts', shared);
  d.evidence = [...experts.map((a) => a.target), ...gates];
  return { file, line: row + 1, kind: 'moe', attention: null, name: view.fact.name, details: d };
}

/** What a class is, before it is placed at a file and line; reusable while its inputs are unchanged. */
export type ClassVerdict = Omit<ModelSite, 'file' | 'line'> | null;

/** Verdicts by class fact, valid for the same base chain and file constants (`key`). */
export type ClassMemo = WeakMap<ClassFact, { key: string; chain: readonly ClassFact[]; verdict: ClassVerdict }>;

/** Attention and MoE sites for the classes of one file. `constantsKey` identifies fileScope's bindings. */
export function classSites(
  classes: readonly Placed<ClassFact>[],
  fileScope: Scope,
  file: string,
  memo?: ClassMemo,
  constantsKey = '',
): ModelSite[] {
  const byName = new Map<string, ClassFact>();
  for (const c of classes) if (!byName.has(c.fact.name)) byName.set(c.fact.name, c.fact);
  const sites: ModelSite[] = [];
  for (const { fact, row } of classes) {
    // The class, then its bases defined in this file (nearest first), without cycles.
    const chain: ClassFact[] = [fact];
    for (let i = 0; i < chain.length && chain.length < 6; i++) {
      for (const b of chain[i].bases) {
        const base = byName.get(b.split('.').pop() ?? b);
        if (base && !chain.includes(base)) chain.push(base);
      }
    }
    const known = memo?.get(fact);
    let verdict: ClassVerdict;
    if (
      known &&
      known.key === constantsKey &&
      known.chain.length === chain.length &&
      known.chain.every((c, i) => c === chain[i])
    ) {
      verdict = known.verdict;
    } else {
      const view = new ClassView(fact, chain, fileScope);
      const site = attentionSite(view, '', 0) ?? moeSite(view, '', 0) ?? ditBlockSite(fact, '', 0);
      verdict = site ? { kind: site.kind, attention: site.attention, name: site.name, details: site.details } : null;
      memo?.set(fact, { key: constantsKey, chain, verdict });
    }
    if (verdict) sites.push({ file, line: row + 1, ...verdict });
  }
  return tagVisionSites(
    sites,
    classes.map((c) => c.fact),
  );
}

// ---- calls ----------------------------------------------------------------------------------

const DTYPES: Record<string, Precision> = {
  bfloat16: 'bf16',
  bf16: 'bf16',
  float16: 'fp16',
  half: 'fp16',
  fp16: 'fp16',
  float32: 'fp32',
  float: 'fp32',
  fp32: 'fp32',
  float8_e4m3fn: 'fp8',
  float8_e5m2: 'fp8',
  int8: 'int8',
  int4: 'int4',
};

/**
 * `torch.bfloat16`, `"bfloat16"`, `"auto"` → bf16 / auto; a conditional whose branches are dtypes
 * resolves when its test does; anything else (a variable set at run time) → undefined, left out.
 */
export function dtypeOf(text: string, scope: Scope): Precision | 'auto' | undefined {
  const t = text.trim();
  const resolved = scope.resolve(t);
  const word = typeof resolved === 'string' ? resolved : /^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)$/.exec(t)?.[1];
  if (word === undefined) return undefined;
  if (word === 'auto') return 'auto';
  return DTYPES[word];
}

function bool(v: string | undefined, scope: Scope): boolean | undefined {
  if (v === undefined) return undefined;
  const r = scope.resolve(v);
  return typeof r === 'boolean' ? r : undefined;
}

function num(v: string | undefined, scope: Scope): number | undefined {
  if (v === undefined) return undefined;
  const r = scope.resolve(v);
  return typeof r === 'number' ? r : undefined;
}

function str(v: string | undefined, scope: Scope): string | undefined {
  if (v === undefined) return undefined;
  const r: Resolved = scope.resolve(v);
  return typeof r === 'string' ? r : undefined;
}

const lastName = (callee: string): string => callee.split('.').pop() ?? callee;

function bitsPrecision(bits: number | undefined): Precision | undefined {
  return bits === 4 ? 'int4' : bits === 8 ? 'int8' : undefined;
}

/** What a quantization config call quantizes to. */
function quantDetails(call: CallFact, scope: Scope): SiteDetails {
  const kw = call.kwargs;
  const d: SiteDetails = {};
  const name = lastName(call.callee);
  if (name === 'BitsAndBytesConfig') {
    const four = bool(kw.get('load_in_4bit'), scope);
    const eight = bool(kw.get('load_in_8bit'), scope);
    if (four !== undefined) d.loadIn4bit = four;
    if (eight !== undefined) d.loadIn8bit = eight;
    if (four) d.precision = 'int4';
    else if (eight) d.precision = 'int8';
    const qt = str(kw.get('bnb_4bit_quant_type'), scope);
    if (qt !== undefined) d.quantType = qt;
    const cd = kw.get('bnb_4bit_compute_dtype');
    const compute = cd !== undefined ? dtypeOf(cd, scope) : undefined;
    if (compute !== undefined) d.computeDtype = compute;
    const dq = bool(kw.get('bnb_4bit_use_double_quant'), scope);
    if (dq !== undefined) d.doubleQuant = dq;
  } else if (name === 'GPTQConfig' || name === 'AwqConfig') {
    const p = bitsPrecision(num(kw.get('bits'), scope));
    if (p) d.precision = p;
  } else if (name === 'HqqConfig') {
    const p = bitsPrecision(num(kw.get('nbits'), scope));
    if (p) d.precision = p;
  } else if (name === 'QuantoConfig') {
    const w = str(kw.get('weights'), scope);
    const p = w === 'int8' ? 'int8' : w === 'int4' ? 'int4' : w === 'float8' ? 'fp8' : undefined;
    if (p) d.precision = p;
  } else if (name === 'TorchAoConfig') {
    const t = str(kw.get('quant_type') ?? call.args[0], scope) ?? '';
    const p = /int4/.test(t) ? 'int4' : /int8/.test(t) ? 'int8' : /float8|fp8/.test(t) ? 'fp8' : undefined;
    if (p) d.precision = p;
  } else {
    d.precision = 'fp8';
  }
  return d;
}

const QUANT_CONFIGS = new Set([
  'BitsAndBytesConfig',
  'GPTQConfig',
  'AwqConfig',
  'HqqConfig',
  'QuantoConfig',
  'TorchAoConfig',
  'FbgemmFp8Config',
  'FineGrainedFP8Config',
]);
/**
 * Matmuls on FP8 weights with block scales (DeepSeek-V3's inference kernel, and the same names in
 * the projects that copy it): where they are called, the model's weights can be FP8.
 */
const FP8_KERNELS = new Set(['fp8_gemm', 'w8a8_block_fp8_matmul']);
/** from_pretrained on these loads no weights. */
const NOT_A_MODEL = /(?:Tokenizer\w*|Processor|FeatureExtractor|Config|Extractor)$/;

function loraSite(call: CallFact, scope: Scope, file: string, row: number): ModelSite {
  const kw = call.kwargs;
  const d: SiteDetails = {};
  const rank = num(kw.get('r'), scope);
  const alpha = num(kw.get('lora_alpha'), scope);
  const dropout = num(kw.get('lora_dropout'), scope);
  const rs = bool(kw.get('use_rslora'), scope);
  const dora = bool(kw.get('use_dora'), scope);
  if (rank !== undefined) d.rank = rank;
  if (alpha !== undefined) d.alpha = alpha;
  if (dropout !== undefined) d.dropout = dropout;
  if (rs !== undefined) d.useRslora = rs;
  if (dora !== undefined) d.useDora = dora;
  const targets = kw.get('target_modules');
  if (targets !== undefined) {
    const list =
      stringList(targets) ??
      str(targets, scope) ??
      (refName(targets) !== null ? stringList(scope.lookup(refName(targets) ?? '')?.text ?? '') : undefined);
    if (list !== undefined) d.targetModules = list;
  }
  d.method = dora ? 'dora' : rs ? 'rslora' : 'lora';
  return { file, line: row + 1, kind: 'peft', attention: null, name: lastName(call.callee), details: d };
}

function loadSite(
  call: CallFact,
  scope: Scope,
  calls: readonly Placed<CallFact>[],
  file: string,
  row: number,
): ModelSite | null {
  const receiver = call.callee.slice(0, -'.from_pretrained'.length);
  if (!call.callee.endsWith('.from_pretrained') || NOT_A_MODEL.test(receiver)) return null;
  const kw = call.kwargs;
  const d: SiteDetails = {};
  const isAdapter = /^(?:\w+\.)*(?:PeftModel\w*|AutoPeftModel\w*)$/.test(receiver);
  const modelArg =
    kw.get('pretrained_model_name_or_path') ?? kw.get('model_id') ?? (isAdapter ? call.args[1] : call.args[0]);
  if (modelArg !== undefined) {
    const id = str(modelArg, scope);
    if (id !== undefined) d.model = id;
    else {
      d.modelFrom = modelArg.replace(/\s+/g, ' ');
      // nanoGPT: `assert model_type in {'gpt2', …}` above `from_pretrained(model_type)`.
      const choices = call.asserts.find(([name]) => name === modelArg.trim())?.[1];
      if (choices && choices.length > 0) d.modelChoices = choices;
    }
  }
  if (isAdapter) d.adapter = true;
  const dtypeText = kw.get('torch_dtype') ?? kw.get('dtype');
  const dtype = dtypeText !== undefined ? dtypeOf(dtypeText, scope) : undefined;
  if (dtype !== undefined) d.dtype = dtype;
  const four = bool(kw.get('load_in_4bit'), scope);
  const eight = bool(kw.get('load_in_8bit'), scope);
  if (four !== undefined) d.loadIn4bit = four;
  if (eight !== undefined) d.loadIn8bit = eight;
  let precision: Precision | undefined = four ? 'int4' : eight ? 'int8' : undefined;
  const qc = kw.get('quantization_config');
  if (qc !== undefined) {
    const inline = /^([\w.]+)\s*\(/.exec(qc.trim());
    let source: CallFact | undefined;
    if (inline) {
      d.quantizationConfig = lastName(inline[1]);
      source = calls.find(
        (c) =>
          c.row >= row && c.fact.callee === inline[1].replace(/\s+/g, '') && QUANT_CONFIGS.has(lastName(c.fact.callee)),
      )?.fact;
    } else {
      const name = qc.trim();
      d.quantizationConfig = name;
      // The nearest `name = BitsAndBytesConfig(…)` above the call, else anywhere in the file.
      const candidates = calls.filter((c) => c.fact.assignedTo === name && QUANT_CONFIGS.has(lastName(c.fact.callee)));
      source = (candidates.filter((c) => c.row <= row).pop() ?? candidates[0])?.fact;
    }
    if (source) precision = quantDetails(source, scope).precision ?? precision;
  }
  if (
    precision === undefined &&
    typeof d.dtype === 'string' &&
    (['fp32', 'bf16', 'fp16', 'fp8'] as string[]).includes(d.dtype)
  )
    precision = d.dtype as Precision;
  if (precision !== undefined) d.precision = precision;
  const dm = str(kw.get('device_map'), scope);
  if (dm !== undefined) d.deviceMap = dm;
  const attn = str(kw.get('attn_implementation'), scope);
  if (attn !== undefined) d.attnImplementation = attn;
  return { file, line: row + 1, kind: 'load', attention: null, name: call.callee, details: d };
}

/** Sites for the LoraConfig, quantization config and from_pretrained calls of one file. */
export function callSites(calls: readonly Placed<CallFact>[], fileScope: Scope, file: string): ModelSite[] {
  const sites: ModelSite[] = [];
  for (const placed of calls) {
    const { fact, row } = placed;
    const name = lastName(fact.callee);
    if (name === 'LoraConfig') sites.push(loraSite(fact, fileScope, file, row));
    else if (QUANT_CONFIGS.has(name))
      sites.push({
        file,
        line: row + 1,
        kind: 'quantization',
        attention: null,
        name,
        details: quantDetails(fact, fileScope),
      });
    else if (FP8_KERNELS.has(name))
      sites.push({
        file,
        line: row + 1,
        kind: 'quantization',
        attention: null,
        name,
        details: { precision: 'fp8', evidence: [name] },
      });
    else if (name === 'from_pretrained') {
      const site = loadSite(fact, fileScope, calls, file, row);
      if (site) sites.push(site);
    }
  }
  return sites;
}

export type { Layer };
