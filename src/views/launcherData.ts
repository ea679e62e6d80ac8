// The launcher's view model (pure; the extension host calls it, the page only shows what it returns):
//  - launcherInit: settings + detected sites + a seed (the site a CodeLens was clicked on) → the
//    form's starting values and the choices the page offers;
//  - launcherPlan: a form → ProfileConfigInput + SweepAxes → expandSweep → resolved configs, or
//    errors that each name the form field to fix;
//  - launcherPreview: the plan as the page shows it: sweep size and each config's instant estimate
//    (parameters, weight memory, KV cache per 1k tokens).
// Lists arrive as typed text ("1, 8"); parsing them here keeps every message in one tested place.
import {
  ATTENTION_KINDS,
  DEFAULT_WORKLOAD,
  MOE_PRESETS,
  PEFT_METHODS,
  PRECISIONS,
  PRESET_NAMES,
  STAGES,
} from '../core/config';
import type { FieldError, ModelShape, MoeSpec, ProfileConfig, ProfileConfigInput, Stage } from '../core/config';
import { archFromConfig, estimateModel, trainableParams } from '../core/estimate';
import { defaultSweepProblems, expandSweep, KINDS_WITH_KV_HEADS } from '../core/sweep';
import type { SweepAxes } from '../core/sweep';
import { formatBytes, formatCount, MISSING } from '../core/units';
import type { ModelSite } from '../detect/site';
import { budgetFieldOf, DATA_CHOICES, EMPTY_BUDGET, parseBudget } from './launcherBudget';
import { LAUNCHER_FIELDS, LAUNCHER_PREVIEW_ROWS } from '../core/webviewProtocol/launcher';
import type {
  LauncherChoice,
  LauncherConfigView,
  LauncherField,
  LauncherFieldError,
  LauncherForm,
  LauncherInit,
  LauncherPreview,
  LauncherSiteView,
} from '../core/webviewProtocol/launcher';

/** Where the launcher was opened from: a CodeLens passes its file, line and site. */
export interface LauncherSeedInput {
  file?: string;
  line?: number;
  site?: ModelSite;
}

/** `efficientllm.defaultSweep` (src/vscode/config.ts); read loosely, it is user-written JSON. */
export interface LauncherDefaults {
  readonly preset?: unknown;
  readonly attention?: unknown;
  readonly stage?: unknown;
  readonly precision?: unknown;
  readonly batch?: unknown;
  readonly seqLen?: unknown;
  readonly newTokens?: unknown;
  readonly steps?: unknown;
  readonly warmup?: unknown;
}

/** Configs one launch may hold: a sweep larger than this is almost always a typo in a list. */
export const MAX_LAUNCH_CONFIGS = 256;
/** Values one list field may hold ("1, 2, 4, …"). */
export const MAX_LIST_VALUES = 16;

const FALLBACK_ATTENTION = ['mha', 'gqa', 'mqa'];

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isOneOf = (values: readonly string[], v: unknown): v is string => typeof v === 'string' && values.includes(v);
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

// ---- sites ----

/**
 * The detected model at fewer layers, every width as the code states it: offered beside the full
 * shape (never instead of it) as a labelled choice, for a target where the full model would not fit
 * or would take long. It is the same site (file, line, name), so runs of it are the site's runs.
 */
export interface ScaledSite extends ModelSite {
  readonly scaled: { readonly layers: number; readonly fullLayers: number };
}

/** Layers of the scaled choice: enough for a block to be measured, small enough for a CPU. */
export const SCALED_LAYERS = 2;

export function isScaled(site: ModelSite): site is ScaledSite {
  return 'scaled' in site && typeof (site as ScaledSite).scaled === 'object';
}

/** A site's id: stable across rescans of an unchanged file (kind, file, line, name; the scaled choice's layers). */
export function siteId(site: ModelSite): string {
  const base = `${site.kind}:${site.file}:${site.line}:${site.name}`;
  return isScaled(site) ? `${base}#${site.scaled.layers}-layers` : base;
}

/** The site as its model's scaled choice, when it states a whole shape deeper than SCALED_LAYERS. */
export function scaledSite(site: ModelSite): ScaledSite | null {
  if (isScaled(site) || (site.kind !== 'attention' && site.kind !== 'config')) return null;
  const d = site.details;
  if (!isPosInt(d.layers) || d.layers <= SCALED_LAYERS || !isPosInt(d.heads) || !isPosInt(d.hidden)) return null;
  return { ...site, scaled: { layers: SCALED_LAYERS, fullLayers: d.layers } };
}

/** What the model is called in labels: its config class ("GPTConfig"), else the site's name. */
export function modelName(site: ModelSite): string {
  const name = (site.details.configClass ?? site.name).replace(/\s+/g, '').slice(0, 40) || site.kind;
  return isScaled(site) ? `${name} shape ${site.scaled.layers}L` : `${name} shape`;
}

const SHAPE_FIELDS = ['layers', 'hidden', 'heads', 'kvHeads', 'headDim', 'ffn', 'vocab'] as const;

/** The shape numbers a site states, as overrides of a preset's shape (empty when it states none). */
export function siteShape(site: ModelSite): Partial<ModelShape> {
  const d = site.details;
  const out: Partial<ModelShape> = {};
  for (const k of SHAPE_FIELDS) {
    if (isPosInt(d[k])) out[k] = d[k];
  }
  if (isScaled(site)) out.layers = site.scaled.layers;
  // An MHA or MQA site that does not name its KV heads still fixes them.
  if (out.kvHeads === undefined && out.heads !== undefined && (site.attention === 'mha' || site.attention === 'mla'))
    out.kvHeads = out.heads;
  if (out.kvHeads === undefined && site.attention === 'mqa') out.kvHeads = 1;
  if (
    out.headDim === undefined &&
    out.hidden !== undefined &&
    out.heads !== undefined &&
    out.hidden % out.heads === 0
  ) {
    out.headDim = out.hidden / out.heads;
  }
  return out;
}

/** The checkpoint a loading site names (`from_pretrained("Qwen/Qwen2.5-0.5B")`), or null. */
function siteCheckpoint(site: ModelSite): string | null {
  const m = site.details.model;
  return site.kind === 'load' && typeof m === 'string' && m.trim().length > 0 ? m.trim() : null;
}

/** True when a site can stand for the model (it has a shape or names a checkpoint). */
function isModelSource(site: ModelSite): boolean {
  return (
    siteCheckpoint(site) !== null ||
    ((site.kind === 'attention' || site.kind === 'config') && Object.keys(siteShape(site)).length > 0)
  );
}

function siteDetail(site: ModelSite): string {
  const d = site.details;
  const parts: string[] = [];
  const ckpt = siteCheckpoint(site);
  if (ckpt) parts.push(`checkpoint ${ckpt}`);
  const s = siteShape(site);
  const from = d.shapeFrom ?? {};
  if (isScaled(site))
    parts.push(
      `scaled to ${site.scaled.layers} of ${site.scaled.fullLayers} layers, every width as the code states it`,
    );
  for (const [k, name] of SHAPE_NAMES) {
    if (s[k] === undefined || (k === 'layers' && isScaled(site))) continue;
    const source = from[k];
    parts.push(source !== undefined ? `${name} ${s[k]} (${source})` : `${name} ${s[k]}`);
  }
  if (isPosInt(d.experts)) parts.push(`${d.experts} experts${isPosInt(d.topK) ? `, top-${d.topK}` : ''}`);
  if (typeof d.method === 'string' && site.kind === 'peft')
    parts.push(`${d.method}${isPosInt(d.rank) ? ` rank ${d.rank}` : ''}`);
  const p = sitePrecision(site);
  if (p) parts.push(p);
  if (typeof d.problem === 'string') parts.push(`problem: ${d.problem}`);
  if (parts.length === 0) parts.push('no shape numbers; the preset gives the shape');
  return parts.join(', ');
}

const SHAPE_NAMES: readonly [keyof ModelShape, string][] = [
  ['layers', 'layers'],
  ['hidden', 'hidden'],
  ['heads', 'heads'],
  ['kvHeads', 'KV heads'],
  ['headDim', 'head dim'],
  ['ffn', 'FFN'],
  ['vocab', 'vocab'],
];

function sitePrecision(site: ModelSite): string | null {
  const d = site.details;
  if (d.loadIn4bit) return 'int4';
  if (d.loadIn8bit) return 'int8';
  if (isOneOf(PRECISIONS, d.precision)) return d.precision;
  if (isOneOf(PRECISIONS, d.dtype)) return d.dtype;
  return null;
}

export function siteViews(
  sites: readonly ModelSite[],
  displayPath: (file: string) => string = (f) => f,
): LauncherSiteView[] {
  return sites.map((s) => ({
    id: siteId(s),
    text: isScaled(s)
      ? `${displayPath(s.file)}:${s.line} · ${modelName({ ...s, scaled: undefined } as ModelSite)} scaled to ${s.scaled.layers} of ${s.scaled.fullLayers} layers (a quick run; not the full model)`
      : `${displayPath(s.file)}:${s.line} · ${s.name} (${s.attention ?? s.kind})`,
    detail: siteDetail(s),
  }));
}

/** The sites the launcher lists: the seed's own site first when the scan has not seen it. */
export function launcherSites(sites: readonly ModelSite[], seed: LauncherSeedInput | undefined): ModelSite[] {
  const given = [...sites];
  if (seed?.site && !given.some((s) => siteId(s) === siteId(seed.site as ModelSite))) given.unshift(seed.site);
  // Each whole-shape site, then its scaled choice right after it (once, however often this runs).
  const list: ModelSite[] = [];
  const ids = new Set<string>();
  const add = (s: ModelSite): void => {
    if (!ids.has(siteId(s))) list.push(s);
    ids.add(siteId(s));
  };
  for (const s of given) {
    add(s);
    const scaled = scaledSite(s);
    if (scaled) add(scaled);
  }
  return list;
}

/** The seed's site: the one given, else the nearest site at or above `line` in `file`. */
export function seedSite(seed: LauncherSeedInput | undefined, sites: readonly ModelSite[]): ModelSite | null {
  if (!seed) return null;
  if (seed.site) return seed.site;
  if (seed.file === undefined) return null;
  const file = seed.file;
  const inFile = sites.filter((s) => s.file === file || file.endsWith(`/${s.file}`) || s.file.endsWith(`/${file}`));
  if (inFile.length === 0) return null;
  const line = seed.line ?? 1;
  const above = inFile.filter((s) => s.line <= line).sort((a, b) => b.line - a.line);
  return above[0] ?? inFile[0];
}

// ---- targets ----

/** A target's name as `efficientllm.targets` spells it (or a CLI spec such as "ssh:gpubox"). */
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * The targets to offer: "local" (this machine) first, then the entries of the `efficientllm.targets`
 * setting, read loosely: {name, kind} objects (the setting's shape; the value is the name) or plain
 * strings ("ssh:gpubox"). Anything else is skipped; the settings code reports it.
 */
export function targetChoices(setting: unknown): LauncherChoice[] {
  const out: LauncherChoice[] = [{ value: 'local', text: 'local (this machine)' }];
  const add = (value: string, text: string): void => {
    if (TARGET_NAME.test(value) && !out.some((c) => c.value === value)) out.push({ value, text });
  };
  if (!Array.isArray(setting)) return out;
  for (const t of setting as unknown[]) {
    if (typeof t === 'string') add(t.trim(), t.trim());
    else if (typeof t === 'object' && t !== null && !Array.isArray(t)) {
      const { name, kind } = t as Record<string, unknown>;
      if (typeof name === 'string' && (kind === 'local' || kind === 'ssh' || kind === 'slurm'))
        add(name, `${name} (${kind})`);
    }
  }
  return out;
}

// ---- the form's starting values ----

const listOf = (v: unknown, allowed: readonly string[]): string[] =>
  Array.isArray(v) ? unique((v as unknown[]).filter((x): x is string => isOneOf(allowed, x))) : [];
const numText = (v: unknown, fallback: number): string => String(isPosInt(v) || v === 0 ? v : fallback);

/** The form from the settings alone. */
export function defaultForm(defaults: LauncherDefaults, target = 'local'): LauncherForm {
  const preset = isOneOf(PRESET_NAMES, defaults.preset) ? defaults.preset : 'tiny';
  const attention = listOf(defaults.attention, ATTENTION_KINDS);
  const precision = listOf(defaults.precision, PRECISIONS);
  const moePreset = MOE_PRESETS[preset];
  return {
    source: { kind: 'preset' },
    preset,
    stage: isOneOf(STAGES, defaults.stage) ? defaults.stage : 'inference',
    attention: attention.length > 0 ? attention : [...FALLBACK_ATTENTION],
    kvHeads: '',
    mla: { kvRank: '', qRank: '', ropeDim: '' },
    nsa: { block: '', selected: '', window: '' },
    dense: !moePreset,
    moe: moePreset ? `${moePreset.moe.experts}x${moePreset.moe.topK}` : '',
    moeShared: '',
    peft: ['full', 'lora'],
    peftRank: '',
    precision: precision.length > 0 ? precision : ['fp32'],
    workload: {
      batch: numText(defaults.batch, DEFAULT_WORKLOAD.batch),
      seqLen: numText(defaults.seqLen, DEFAULT_WORKLOAD.seqLen),
      newTokens: numText(defaults.newTokens, DEFAULT_WORKLOAD.newTokens),
      steps: numText(defaults.steps, DEFAULT_WORKLOAD.steps),
      warmup: numText(defaults.warmup, DEFAULT_WORKLOAD.warmup),
    },
    budget: { ...EMPTY_BUDGET },
    seeds: '',
    target,
  };
}

/**
 * The form for a seed site: its model (a shape or checkpoint; for an MoE, PEFT or quantization site,
 * a shape site of the same file when there is one) and what it uses added to the settings' sweep,
 * so the sweep measures the code as written against the alternatives.
 */
export function seededForm(base: LauncherForm, site: ModelSite | null, sites: readonly ModelSite[]): LauncherForm {
  if (!site) return base;
  const form: LauncherForm = structuredClone(base);
  const d = site.details;
  const source = isModelSource(site) ? site : sites.find((s) => s.file === site.file && isModelSource(s));
  if (source) form.source = { kind: 'site', siteId: siteId(source) };
  // The site's own technique stays ticked: an MoE or PEFT site's model brings its attention with it
  // (DeepSeek's MoE → its MLA).
  if (site.attention === null && source && source.attention !== null) form.attention = unique([source.attention]);
  const att = site.attention !== null ? site : source;
  if (att && att.attention !== null && isOneOf(ATTENTION_KINDS, att.attention)) {
    const a = att.details;
    form.attention = unique([att.attention, ...form.attention]);
    if ((att.attention === 'gqa' || att.attention === 'nsa') && isPosInt(a.kvHeads)) form.kvHeads = String(a.kvHeads);
    if (att.attention === 'mla') {
      if (isPosInt(a.kvRank)) form.mla.kvRank = String(a.kvRank);
      if (typeof a.qRank === 'number' && Number.isSafeInteger(a.qRank) && a.qRank >= 0)
        form.mla.qRank = String(a.qRank);
      if (isPosInt(a.ropeDim)) form.mla.ropeDim = String(a.ropeDim);
    }
    if (att.attention === 'nsa') {
      if (isPosInt(a.blockSize)) form.nsa.block = String(a.blockSize);
      if (isPosInt(a.selectedBlocks)) form.nsa.selected = String(a.selectedBlocks);
      if (isPosInt(a.slidingWindow)) form.nsa.window = String(a.slidingWindow);
    }
  }
  if (site.kind === 'moe' && isPosInt(d.experts)) {
    form.dense = true;
    form.moe = `${d.experts}x${isPosInt(d.topK) ? d.topK : Math.min(2, d.experts)}`;
    if (typeof d.sharedExperts === 'number' && Number.isSafeInteger(d.sharedExperts) && d.sharedExperts >= 0)
      form.moeShared = String(d.sharedExperts);
  }
  if (site.kind === 'peft') {
    form.stage = 'finetune';
    const method = isOneOf(PEFT_METHODS, d.method) ? d.method : 'lora';
    form.peft = unique(['full', method]);
    if (isPosInt(d.rank)) form.peftRank = String(d.rank);
  }
  const p = sitePrecision(site);
  if (p) form.precision = unique([...form.precision, p]);
  return form;
}

export interface LauncherInitInput {
  sites: readonly ModelSite[];
  seed?: LauncherSeedInput;
  defaults: LauncherDefaults;
  targets: LauncherChoice[];
  /** The target picked first when it is one of `targets` (`efficientllm.defaultTarget`). */
  defaultTarget?: string;
  revision: number;
  launchBlocked: string | null;
  displayPath?: (file: string) => string;
}

export function launcherInit(input: LauncherInitInput): LauncherInit {
  const sites = launcherSites(input.sites, input.seed);
  const site = seedSite(input.seed, sites);
  const show = input.displayPath ?? ((f: string) => f);
  const target =
    input.targets.find((t) => t.value === input.defaultTarget)?.value ?? input.targets[0]?.value ?? 'local';
  const form = seededForm(defaultForm(input.defaults, target), site, sites);
  let seedNote: string | null = null;
  if (site) seedNote = `From ${show(site.file)}:${site.line} · ${site.name}`;
  else if (input.seed?.file !== undefined)
    seedNote = `From ${show(input.seed.file)}${input.seed.line !== undefined ? `:${input.seed.line}` : ''} (no detected model site there; pick one or a preset)`;
  return {
    revision: input.revision,
    title: 'Profile a sweep',
    seedNote,
    sites: siteViews(sites, show),
    presets: PRESET_NAMES.map((p) => ({
      value: p,
      text: MOE_PRESETS[p] ? `${p} (MoE ${MOE_PRESETS[p].moe.experts}×${MOE_PRESETS[p].moe.topK})` : p,
    })),
    targets: input.targets,
    options: {
      stages: [...STAGES],
      attention: [...ATTENTION_KINDS],
      precisions: [...PRECISIONS],
      peft: [...PEFT_METHODS],
      data: [...DATA_CHOICES],
    },
    form,
    launchBlocked: input.launchBlocked,
  };
}

// ---- parsing typed lists ----

class Errors {
  private readonly items: LauncherFieldError[] = [];
  add(field: LauncherField, message: string): void {
    if (!this.items.some((e) => e.field === field && e.message === message)) this.items.push({ field, message });
  }
  /** In the form's order (LAUNCHER_FIELDS), so the list reads top to bottom like the page. */
  get list(): LauncherFieldError[] {
    const at = (f: LauncherField): number => LAUNCHER_FIELDS.indexOf(f);
    return [...this.items].sort((a, b) => at(a.field) - at(b.field));
  }
}

/** "1, 8 16" → [1, 8, 16]; each value a whole number ≥ min; an empty text is an error when required. */
function parseIntList(text: string, field: LauncherField, min: number, errors: Errors, required: boolean): number[] {
  const items = text.split(/[\s,;]+/).filter((s) => s.length > 0);
  if (items.length === 0) {
    if (required) errors.add(field, `give at least one whole number ≥ ${min}, e.g. "${Math.max(min, 1)}"`);
    return [];
  }
  const out: number[] = [];
  for (const item of items) {
    const n = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isSafeInteger(n) || n < min) {
      errors.add(
        field,
        `"${item}" is not a whole number ≥ ${min}; separate values with commas, e.g. "${Math.max(min, 1)}, ${Math.max(min, 1) * 2}"`,
      );
      continue;
    }
    if (!out.includes(n)) out.push(n);
  }
  if (out.length > MAX_LIST_VALUES) errors.add(field, `${out.length} values; give at most ${MAX_LIST_VALUES}`);
  return out;
}

/** One optional whole number ('' = the default). */
function parseOptionalInt(text: string, field: LauncherField, min: number, errors: Errors): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    errors.add(field, `"${t}" is not a whole number ≥ ${min}; leave it empty for the default`);
    return undefined;
  }
  return n;
}

/** "8x2, 16×4" → experts×top-k layouts. */
function parseMoeList(text: string, errors: Errors): { experts: number; topK: number }[] {
  const out: { experts: number; topK: number }[] = [];
  for (const raw of text.split(/[,;]+/)) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^(\d+)\s*[x×*]\s*(\d+)$/i.exec(item);
    const experts = m ? Number(m[1]) : NaN;
    const topK = m ? Number(m[2]) : NaN;
    if (!m || experts < 1 || topK < 1) {
      errors.add('moe', `"${item}" is not experts×top-k; write e.g. "8x2" (8 experts, 2 per token)`);
      continue;
    }
    if (topK > experts) {
      errors.add('moe', `"${item}" routes each token to ${topK} of ${experts} experts; top-k must be 1 to ${experts}`);
      continue;
    }
    if (!out.some((o) => o.experts === experts && o.topK === topK)) out.push({ experts, topK });
  }
  if (out.length > MAX_LIST_VALUES) errors.add('moe', `${out.length} layouts; give at most ${MAX_LIST_VALUES}`);
  return out;
}

/** Where a ProfileConfig field's error belongs on the form. */
export function formFieldOf(configField: string, fromSite: boolean): LauncherField {
  const budgetField = budgetFieldOf(configField);
  if (budgetField) return budgetField;
  if (configField === 'stage' || configField === 'precision') return configField;
  if (configField.startsWith('model')) return fromSite ? 'source' : 'preset';
  if (configField === 'attention.kind') return 'attention';
  if (configField === 'attention.kvHeads') return 'kvHeads';
  const sub = /^attention\.(mla|nsa)\.(\w+)$/.exec(configField);
  if (sub) {
    const f = `${sub[1]}.${sub[2]}`;
    if (
      (['mla.kvRank', 'mla.qRank', 'mla.ropeDim', 'nsa.block', 'nsa.selected', 'nsa.window'] as const).some(
        (x) => x === f,
      )
    )
      return f as LauncherField;
  }
  if (configField === 'moe.shared') return 'moeShared';
  if (configField.startsWith('moe')) return 'moe';
  if (configField === 'peft.rank' || configField === 'peft.alpha') return 'peftRank';
  if (configField.startsWith('peft')) return 'peft';
  const w = /^workload\.(batch|seqLen|newTokens|steps|warmup)$/.exec(configField);
  if (w) return `workload.${w[1]}` as LauncherField;
  return 'sweep';
}

// ---- the plan ----

export interface LauncherEnv {
  /** The sites the form's `source.siteId` may name. */
  sites: readonly ModelSite[];
  /** The allowed target values (LauncherInit.targets). */
  targets: readonly string[];
  /** `efficientllm.sampleIntervalMs`. */
  sampleMs?: number;
  /** `efficientllm.defaultSweep` as written: its unknown fields and bad values block the launch until fixed. */
  defaults?: unknown;
}

export type LauncherPlan =
  | { ok: true; configs: ProfileConfig[]; target: string; notes: string[] }
  | { ok: false; errors: LauncherFieldError[]; notes: string[] };

interface Model {
  input: NonNullable<ProfileConfigInput['model']>;
  /** First word of each config's label. */
  name: string;
  fromSite: boolean;
}

function modelOf(form: LauncherForm, env: LauncherEnv, errors: Errors, notes: string[]): Model | null {
  const presetOk = isOneOf(PRESET_NAMES, form.preset);
  if (!presetOk) errors.add('preset', `"${form.preset}" is not a preset; use one of ${PRESET_NAMES.join(', ')}`);
  if (form.source.kind === 'preset')
    return presetOk ? { input: { preset: form.preset }, name: form.preset, fromSite: false } : null;
  const wanted = form.source.siteId;
  const site = env.sites.find((s) => siteId(s) === wanted);
  if (!site) {
    errors.add('source', 'that model site is no longer detected (was the file edited?); pick a site again or a preset');
    return null;
  }
  const name = modelName(site);
  const ckpt = siteCheckpoint(site);
  if (ckpt) {
    notes.push(
      `The harness loads ${ckpt} on the target (it must be a local folder there or already in its Hugging Face cache); estimates need its config.json and are not shown.`,
    );
    return { input: { source: 'hf', path: ckpt }, name: ckpt.split('/').pop() ?? ckpt, fromSite: true };
  }
  if (!presetOk) return null;
  const shape = siteShape(site);
  notes.push(...shapeNotes(site, shape, form.preset));
  return { input: { preset: form.preset, shape }, name, fromSite: true };
}

/** Where each number of the proposed shape comes from, and which the preset fills in (named). */
function shapeNotes(site: ModelSite, shape: Partial<ModelShape>, preset: string): string[] {
  const notes: string[] = [];
  const from = site.details.shapeFrom ?? {};
  const stated = SHAPE_NAMES.filter(([k]) => shape[k] !== undefined);
  if (stated.length === 0) return [`${site.name} states no shape numbers; the ${preset} preset gives the shape.`];
  const said = stated.map(([k, label]) => {
    const src = k === 'layers' && isScaled(site) ? `scaled from ${site.scaled.fullLayers}` : from[k];
    return `${label} ${shape[k]}${src !== undefined ? ` (${src})` : ''}`;
  });
  // The file's own name: the site's path is absolute in the editor (the seed note shows where it is).
  const fileName = site.file.split(/[\\/]/).pop() ?? site.file;
  notes.push(`Shape from ${site.details.configClass ?? site.name} in ${fileName}: ${said.join(', ')}.`);
  const missing = SHAPE_NAMES.filter(([k]) => shape[k] === undefined && k !== 'headDim').map(([, label]) => label);
  if (missing.length > 0)
    notes.push(
      `${missing.join(', ')} from the ${preset} preset: the code does not state ${missing.length === 1 ? 'it' : 'them'}.`,
    );
  if (isScaled(site))
    notes.push(
      `Scaled choice: ${site.scaled.layers} of ${site.scaled.fullLayers} layers for a quick run; pick the full shape to measure the model itself.`,
    );
  if (site.details.block === 'gpt2')
    notes.push(
      "The harness builds this shape with Llama-style blocks (SwiGLU FFN, RoPE, untied head), so its parameter count differs from the file's GPT-2 blocks.",
    );
  return notes;
}

const ADAPTERS = new Set(['lora', 'rslora', 'dora']);

function labelOf(cfg: ProfileConfig, model: Model, workloadVaries: boolean): string {
  const a = cfg.attention;
  const w = cfg.workload;
  const workload = `b${w.batch} L${w.seqLen}${cfg.stage === 'inference' ? `+${w.newTokens}` : ''}`;
  if (model.fromSite) {
    // "GPTConfig shape · GQA-4 · bf16 · inference": the model, then each technique in its own words.
    const parts = [
      model.name,
      a.kind === 'gqa' || a.kind === 'nsa' ? `${a.kind.toUpperCase()}-${a.kvHeads}` : a.kind.toUpperCase(),
    ];
    if (cfg.moe) parts.push(`MoE ${cfg.moe.experts}×${cfg.moe.topK}`);
    if (cfg.peft && cfg.stage === 'finetune') parts.push(PEFT_WORDS[cfg.peft.method] ?? cfg.peft.method);
    parts.push(cfg.precision, cfg.stage);
    if (workloadVaries) parts.push(workload);
    return parts.join(' · ');
  }
  const parts = [model.name, a.kind === 'gqa' || a.kind === 'nsa' ? `${a.kind}-${a.kvHeads}` : a.kind];
  if (cfg.moe) parts.push(`moe${cfg.moe.experts}x${cfg.moe.topK}`);
  if (cfg.peft && cfg.stage === 'finetune') parts.push(cfg.peft.method);
  parts.push(cfg.precision, cfg.stage);
  if (workloadVaries) parts.push(workload);
  return parts.join(' ');
}

const PEFT_WORDS: Readonly<Record<string, string>> = {
  full: 'full FT',
  lora: 'LoRA',
  rslora: 'RSLoRA',
  dora: 'DoRA',
  freeze: 'freeze',
};

/**
 * The attention a config computes: GQA with as many KV heads as query heads is MHA, with one it is
 * MQA. Two configs that compute the same are one run, not two (llama3's "gqa-8" and "mha").
 */
function canonicalKey(cfg: ProfileConfig): string {
  const a = cfg.attention;
  const heads = cfg.model.source === 'synthetic' ? cfg.model.shape.heads : null;
  const kind = a.kind === 'gqa' && a.kvHeads === heads ? 'mha' : a.kind === 'gqa' && a.kvHeads === 1 ? 'mqa' : a.kind;
  return JSON.stringify({ ...cfg, label: '', attention: { ...a, kind } });
}

/** The configs without repeats of one computation, keeping the plainest name (MHA over GQA-H); notes what was folded. */
export function foldDuplicates(configs: readonly ProfileConfig[], notes: string[]): ProfileConfig[] {
  const byKey = new Map<string, ProfileConfig>();
  const folded: string[] = [];
  const rank = (c: ProfileConfig): number => (c.attention.kind === 'gqa' ? 1 : 0);
  for (const c of configs) {
    const key = canonicalKey(c);
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, c);
    else {
      const [keep, drop] = rank(c) < rank(seen) ? [c, seen] : [seen, c];
      byKey.set(key, keep);
      folded.push(`${drop.attention.kind}-${drop.attention.kvHeads} is ${keep.attention.kind} here`);
    }
  }
  if (folded.length > 0)
    notes.push(
      `Folded ${folded.length} duplicate config${folded.length === 1 ? '' : 's'} (${[...new Set(folded)].join('; ')}: kv heads equal heads or 1).`,
    );
  return configs.filter((c) => byKey.get(canonicalKey(c)) === c);
}

/** The form as resolved configs, or every problem with the field to fix. */
export function launcherPlan(form: LauncherForm, env: LauncherEnv): LauncherPlan {
  const errors = new Errors();
  const notes: string[] = [];
  for (const e of defaultSweepProblems(env.defaults)) errors.add('sweep', `${e.field}: ${e.message} (fix the setting)`);

  const stageOk = isOneOf(STAGES, form.stage);
  if (!stageOk) errors.add('stage', `"${form.stage}" is not a stage; use one of ${STAGES.join(', ')}`);
  const stage: Stage = stageOk ? (form.stage as Stage) : 'inference';
  const model = modelOf(form, env, errors, notes);

  const attention = unique(form.attention);
  if (attention.length === 0) errors.add('attention', 'tick at least one attention variant');
  for (const k of attention)
    if (!isOneOf(ATTENTION_KINDS, k))
      errors.add('attention', `"${k}" is not an attention variant; use ${ATTENTION_KINDS.join(', ')}`);
  const withKv = attention.some((k) => (KINDS_WITH_KV_HEADS as readonly string[]).includes(k));
  const kvHeads = withKv ? parseIntList(form.kvHeads, 'kvHeads', 1, errors, false) : [];

  const mla = attention.includes('mla')
    ? {
        kvRank: parseOptionalInt(form.mla.kvRank, 'mla.kvRank', 1, errors),
        qRank: parseOptionalInt(form.mla.qRank, 'mla.qRank', 0, errors),
        ropeDim: parseOptionalInt(form.mla.ropeDim, 'mla.ropeDim', 2, errors),
      }
    : undefined;
  const nsa = attention.includes('nsa')
    ? {
        block: parseOptionalInt(form.nsa.block, 'nsa.block', 1, errors),
        selected: parseOptionalInt(form.nsa.selected, 'nsa.selected', 1, errors),
        window: parseOptionalInt(form.nsa.window, 'nsa.window', 1, errors),
      }
    : undefined;

  const layouts = parseMoeList(form.moe, errors);
  const shared = parseOptionalInt(form.moeShared, 'moeShared', 0, errors) ?? 0;
  if (!form.dense && layouts.length === 0 && !errors.list.some((e) => e.field === 'moe')) {
    errors.add('moe', 'tick "Dense FFN" or give experts×top-k layouts such as "8x2"');
  }
  const moe: (MoeSpec | null)[] = [...(form.dense ? [null] : []), ...layouts.map((l) => ({ ...l, shared }))];

  let peft: string[] = [];
  const peftRank = parseOptionalInt(form.peftRank, 'peftRank', 1, errors);
  if (stage === 'finetune') {
    peft = unique(form.peft);
    if (peft.length === 0)
      errors.add('peft', 'tick at least one PEFT method for stage finetune ("full" trains every weight)');
    for (const m of peft)
      if (!isOneOf(PEFT_METHODS, m)) errors.add('peft', `"${m}" is not a PEFT method; use ${PEFT_METHODS.join(', ')}`);
  }

  const precision = unique(form.precision);
  if (precision.length === 0) errors.add('precision', 'tick at least one precision');
  for (const p of precision)
    if (!isOneOf(PRECISIONS, p)) errors.add('precision', `"${p}" is not a precision; use ${PRECISIONS.join(', ')}`);

  const w = form.workload;
  const batch = parseIntList(w.batch, 'workload.batch', 1, errors, true);
  const seqLen = parseIntList(w.seqLen, 'workload.seqLen', 1, errors, true);
  const newTokens = stage === 'inference' ? parseIntList(w.newTokens, 'workload.newTokens', 1, errors, true) : [];
  const steps = parseOptionalInt(w.steps, 'workload.steps', 1, errors);
  const warmup = parseOptionalInt(w.warmup, 'workload.warmup', 0, errors);
  const budget = parseBudget(form, errors, notes);

  if (!env.targets.includes(form.target)) {
    errors.add(
      'target',
      `"${form.target}" is not a configured target; pick one of ${env.targets.join(', ')} (add more in the efficientllm.targets setting)`,
    );
  }

  // An upper bound of the product before expanding it: a runaway list fails fast, not slowly.
  const len = (xs: readonly unknown[]): number => Math.max(1, xs.length);
  const bound =
    len(attention) *
    len(kvHeads) *
    len(precision) *
    len(moe) *
    len(peft) *
    len(batch) *
    len(seqLen) *
    len(newTokens) *
    len(budget.seeds);
  if (bound > MAX_LAUNCH_CONFIGS * 16) {
    errors.add(
      'sweep',
      `up to ${bound} configs; one launch runs at most ${MAX_LAUNCH_CONFIGS}: untick values or shorten the lists`,
    );
  }
  // Expand even when some fields are wrong (with their valid values), so every problem shows at once;
  // not when an axis is empty or the model unknown, where the configs would not be the user's.
  const validAttention = attention.filter((k) => isOneOf(ATTENTION_KINDS, k));
  const validPrecision = precision.filter((p) => isOneOf(PRECISIONS, p));
  const validPeft = peft.filter((m) => isOneOf(PEFT_METHODS, m));
  const expandable =
    model !== null &&
    validAttention.length > 0 &&
    validPrecision.length > 0 &&
    (stage !== 'finetune' || validPeft.length > 0) &&
    !errors.list.some((e) => e.field === 'sweep');
  if (!expandable || !model) return { ok: false, errors: errors.list, notes };

  const base: ProfileConfigInput = {
    stage,
    model: model.input,
    attention: { ...(mla ? { mla: dropUndefined(mla) } : {}), ...(nsa ? { nsa: dropUndefined(nsa) } : {}) },
    workload: dropUndefined({ steps, warmup }),
    ...(env.sampleMs !== undefined ? { sampleMs: env.sampleMs } : {}),
    ...budget.input,
  };
  const axes: SweepAxes = {
    attention: validAttention,
    precision: validPrecision,
    moe,
    batch,
    seqLen,
    ...(kvHeads.length > 0 ? { kvHeads } : {}),
    ...(newTokens.length > 0 ? { newTokens } : {}),
    ...(budget.seeds.length > 0 ? { seeds: budget.seeds } : {}),
  };

  // PEFT is expanded here rather than as a sweep axis so the rank applies to the adapters only.
  const configs: ProfileConfig[] = [];
  const problems = new Map<string, { field: LauncherField; message: string; labels: string[] }>();
  for (const method of stage === 'finetune' ? validPeft : [null]) {
    const b: ProfileConfigInput =
      method === null
        ? base
        : { ...base, peft: { method, ...(peftRank !== undefined && ADAPTERS.has(method) ? { rank: peftRank } : {}) } };
    const r = expandSweep(b, axes);
    if (r.ok) {
      configs.push(...r.configs);
      continue;
    }
    for (const p of r.problems) {
      for (const e of p.errors as FieldError[]) {
        const field = formFieldOf(e.field, model.fromSite);
        const key = `${field}\u0000${e.message}`;
        const entry = problems.get(key) ?? { field, message: e.message, labels: [] };
        entry.labels.push(p.label);
        problems.set(key, entry);
      }
    }
  }
  for (const p of problems.values()) {
    const more = p.labels.length > 1 ? ` and ${p.labels.length - 1} more` : '';
    errors.add(p.field, `${p.message} (in ${p.labels[0]}${more})`);
  }
  if (errors.list.length > 0) return { ok: false, errors: errors.list, notes };
  if (configs.length > MAX_LAUNCH_CONFIGS) {
    errors.add(
      'sweep',
      `${configs.length} configs; one launch runs at most ${MAX_LAUNCH_CONFIGS}: untick values or shorten the lists`,
    );
    return { ok: false, errors: errors.list, notes };
  }
  const workloadVaries = batch.length > 1 || seqLen.length > 1 || newTokens.length > 1;
  return {
    ok: true,
    configs: foldDuplicates(configs, notes).map((c) => {
      // Repeats over seeds are told apart by their seed.
      const label = labelOf(c, model, workloadVaries);
      return { ...c, label: budget.seeds.length > 1 ? `${label}${model.fromSite ? ' · ' : ' '}seed ${c.seed}` : label };
    }),
    target: form.target,
    notes,
  };
}

function dropUndefined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  const out: { [K in keyof T]?: number } = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k as keyof T] = v;
  return out;
}

// ---- the preview ----

/** One config and its instant estimate (synthetic models; a checkpoint's shape is on the target). */
export function configView(cfg: ProfileConfig): LauncherConfigView {
  const arch = archFromConfig(cfg);
  if (!arch)
    return {
      label: cfg.label,
      params: MISSING,
      activeParams: null,
      weights: MISSING,
      kvPer1k: MISSING,
      trainable: null,
    };
  const e = estimateModel(arch, {
    precision: cfg.precision,
    batch: cfg.workload.batch,
    seqLen: cfg.workload.seqLen,
    gpu: null,
  });
  return {
    label: cfg.label,
    params: formatCount(e.params),
    activeParams: e.activeParams !== e.params ? formatCount(e.activeParams) : null,
    weights: formatBytes(e.weightBytes),
    kvPer1k: formatBytes(e.kvBytesPerToken * 1000),
    trainable: cfg.stage === 'inference' ? null : formatCount(trainableParams(arch, cfg.stage, cfg.peft)),
  };
}

export function launcherPreview(form: LauncherForm, env: LauncherEnv): LauncherPreview {
  const plan = launcherPlan(form, env);
  if (!plan.ok) return { sweepSize: null, configs: [], more: 0, errors: plan.errors, notes: plan.notes };
  const shown = plan.configs.slice(0, LAUNCHER_PREVIEW_ROWS);
  return {
    sweepSize: plan.configs.length,
    configs: shown.map(configView),
    more: plan.configs.length - shown.length,
    errors: [],
    notes: plan.notes,
  };
}

/** Errors as one text ("kvHeads: …"), for a refused launch. */
export function formatLauncherErrors(errors: readonly LauncherFieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('\n');
}
