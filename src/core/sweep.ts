// Sweep expansion: a base config plus lists of values → the product of single configs, each resolved.
import {
  ATTENTION_KINDS,
  CONFIG_FIELDS,
  PRECISIONS,
  PRESET_NAMES,
  resolveConfig,
  STAGES,
  unknownConfigFields,
  unknownFields,
  type AttentionKind,
  type FieldError,
  type FieldTree,
  type MoeSpec,
  type ProfileConfig,
  type ProfileConfigInput,
} from './config';

/** The axes a sweep may vary; each list multiplies the sweep. Absent axes keep the base value. */
export interface SweepAxes {
  preset?: string[];
  stage?: string[];
  attention?: string[];
  /** Applies to the kinds that have a free KV-head count (gqa, nsa); ignored by mha, mqa, mla. */
  kvHeads?: number[];
  precision?: string[];
  batch?: number[];
  seqLen?: number[];
  newTokens?: number[];
  /** MoE layouts; null means a dense FFN. */
  moe?: (MoeSpec | null)[];
  /** PEFT methods; apply to stage finetune only and are ignored by the other stages. */
  peft?: string[];
  /** Repeats of every config with these seeds (weights and data): a difference inside their spread is a tie. */
  seeds?: number[];
  /** Processes (ranks) per node, as torchrun's --nproc-per-node: 1 is the one-process run. */
  nproc?: number[];
  /** Data-parallel strategies (ddp, fsdp); apply to runs of more than one process. */
  parallel?: string[];
}

/** Every axis of SweepAxes, for the strict check of what a plan file or a caller gives. */
export const AXES_FIELDS: FieldTree = {
  preset: true,
  stage: true,
  attention: true,
  kvHeads: true,
  precision: true,
  batch: true,
  seqLen: true,
  newTokens: true,
  moe: true,
  peft: true,
  seeds: true,
  nproc: true,
  parallel: true,
};

const STRING_AXES = new Set(['preset', 'stage', 'attention', 'precision', 'peft', 'parallel']);

/** Axes that are not lists of the right kind of value (each axis is a list; `moe` holds layouts or null). */
function axisValueErrors(axes: Record<string, unknown>, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(axes)) {
    if (v === undefined || !Object.prototype.hasOwnProperty.call(AXES_FIELDS, k)) continue; // unknown: reported apart
    const field = `${prefix}${k}`;
    const want = STRING_AXES.has(k)
      ? 'a list of strings, e.g. ["mha", "gqa"]'
      : k === 'moe'
        ? 'a list of {experts, topK, shared} or null, e.g. [null, {"experts": 8, "topK": 2}]'
        : 'a list of whole numbers, e.g. [1, 8]';
    const fits = (x: unknown): boolean =>
      STRING_AXES.has(k)
        ? typeof x === 'string'
        : k === 'moe'
          ? x === null || (typeof x === 'object' && !Array.isArray(x))
          : typeof x === 'number' && Number.isInteger(x);
    if (!Array.isArray(v) || !v.every(fits)) {
      errors.push({ field, message: `${JSON.stringify(v)} is not allowed; use ${want}` });
      continue;
    }
    if (k === 'moe')
      v.forEach((m: unknown, i) => errors.push(...unknownFields(m, CONFIG_FIELDS.moe as FieldTree, `${field}[${i}].`)));
  }
  return errors;
}

export interface SweepPlan {
  base: ProfileConfigInput;
  axes: SweepAxes;
}

/** The two shapes of a plan entry: {base, axes} (a sweep) or one config input. */
const PLAN_FIELDS: FieldTree = { base: CONFIG_FIELDS, axes: AXES_FIELDS };

/**
 * A plan file's JSON: one config input, a list of them, or {base, axes} (or a list mixing both),
 * checked strictly: every unknown or misplaced field is named with its path ("[1].base.seqLen"
 * in a list) and the nearest known field, so a typo is never a default silently measured.
 */
export function parsePlan(parsed: unknown): { ok: true; sweeps: SweepPlan[] } | { ok: false; errors: FieldError[] } {
  const list = Array.isArray(parsed);
  const items: unknown[] = list ? parsed : [parsed];
  if (list && items.length === 0)
    return { ok: false, errors: [{ field: '(plan)', message: 'is an empty list; give at least one config' }] };
  const errors: FieldError[] = [];
  const sweeps: SweepPlan[] = [];
  items.forEach((item, i) => {
    const at = list ? `[${i}].` : '';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push({ field: list ? `[${i}]` : '(plan)', message: 'is not a JSON object (a config, or {base, axes})' });
      return;
    }
    const o = item as Record<string, unknown>;
    if ('base' in o || 'axes' in o) {
      const found = unknownFields(o, PLAN_FIELDS, at);
      const axes = o.axes ?? {};
      if (typeof axes === 'object' && axes !== null && !Array.isArray(axes))
        found.push(...axisValueErrors(axes as Record<string, unknown>, `${at}axes.`));
      errors.push(...found);
      if (found.length === 0) sweeps.push({ base: (o.base ?? {}) as ProfileConfigInput, axes: axes as SweepAxes });
    } else {
      const found = unknownConfigFields(o, at);
      errors.push(...found);
      if (found.length === 0) sweeps.push({ base: o as ProfileConfigInput, axes: {} });
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, sweeps };
}

// ---- the `efficientllm.defaultSweep` setting ----

/** The setting's fields (package.json): a preset, lists of attention kinds and precisions, one workload. */
export const DEFAULT_SWEEP_FIELDS: FieldTree = {
  preset: true,
  attention: true,
  stage: true,
  precision: true,
  batch: true,
  seqLen: true,
  newTokens: true,
  steps: true,
  warmup: true,
};

export const DEFAULT_SWEEP_SETTING = 'efficientllm.defaultSweep';

/**
 * What is wrong with the `efficientllm.defaultSweep` setting, each named by its full setting path:
 * unknown fields with the nearest known one, and values the launcher would otherwise drop unseen.
 */
export function defaultSweepProblems(value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  const prefix = `${DEFAULT_SWEEP_SETTING}.`;
  if (typeof value !== 'object' || Array.isArray(value))
    return [{ field: DEFAULT_SWEEP_SETTING, message: 'must be an object such as {"preset": "tiny"}' }];
  const errors = unknownFields(value, DEFAULT_SWEEP_FIELDS, prefix);
  const v = value as Record<string, unknown>;
  const one = (k: string, allowed: readonly string[]): void => {
    if (v[k] !== undefined && !(typeof v[k] === 'string' && allowed.includes(v[k])))
      errors.push({
        field: prefix + k,
        message: `${JSON.stringify(v[k])} is not allowed; use one of ${allowed.join(', ')}`,
      });
  };
  const many = (k: string, allowed: readonly string[]): void => {
    const x = v[k];
    if (x !== undefined && !(Array.isArray(x) && x.every((e) => typeof e === 'string' && allowed.includes(e))))
      errors.push({
        field: prefix + k,
        message: `${JSON.stringify(x)} is not allowed; use a list of ${allowed.join(', ')}`,
      });
  };
  one('preset', PRESET_NAMES);
  one('stage', STAGES);
  many('attention', ATTENTION_KINDS);
  many('precision', PRECISIONS);
  for (const k of ['batch', 'seqLen', 'newTokens', 'steps', 'warmup']) {
    const x = v[k];
    const min = k === 'warmup' ? 0 : 1;
    if (x !== undefined && !(typeof x === 'number' && Number.isSafeInteger(x) && x >= min))
      errors.push({ field: prefix + k, message: `${JSON.stringify(x)} is not allowed; use a whole number ≥ ${min}` });
  }
  return errors;
}

export interface SweepError {
  /** The config's position in the expansion; -1 for a problem of the sweep as a whole (its base or axes). */
  index: number;
  label: string;
  errors: FieldError[];
}

export type ExpandedSweep = { ok: true; configs: ProfileConfig[] } | { ok: false; problems: SweepError[] };

export const KINDS_WITH_KV_HEADS: readonly AttentionKind[] = ['gqa', 'nsa'];

function product<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

const orBase = <T>(values: T[] | undefined): (T | undefined)[] => (values && values.length > 0 ? values : [undefined]);

function withAttention(
  base: ProfileConfigInput,
  kind: string | undefined,
  kvHeads: number | undefined,
): ProfileConfigInput {
  const attention = { ...base.attention };
  if (kind !== undefined) attention.kind = kind;
  const effective = attention.kind ?? 'gqa';
  if (kvHeads !== undefined && (KINDS_WITH_KV_HEADS as readonly string[]).includes(effective))
    attention.kvHeads = kvHeads;
  return { ...base, attention };
}

/** Expands every combination, resolves each, and fails with all problems if any config is invalid. */
export function expandSweep(base: ProfileConfigInput, axes: SweepAxes): ExpandedSweep {
  // Checked once here, not once per config: a typo in the base would otherwise repeat in every config.
  const strict = [
    ...unknownConfigFields(base),
    ...unknownFields(axes, AXES_FIELDS, 'axes.'),
    ...axisValueErrors(axes as Record<string, unknown>, 'axes.'),
  ];
  if (strict.length > 0) return { ok: false, problems: [{ index: -1, label: 'the sweep', errors: strict }] };
  const inputs: ProfileConfigInput[] = [];
  const seen = new Set<string>();
  for (const [preset, stage, precision, batch, seqLen, newTokens] of product<string | number | undefined>([
    orBase(axes.preset),
    orBase(axes.stage),
    orBase(axes.precision),
    orBase(axes.batch),
    orBase(axes.seqLen),
    orBase(axes.newTokens),
  ])) {
    for (const [kind, moe, peft] of product<string | MoeSpec | null | undefined>([
      orBase(axes.attention),
      orBase(axes.moe),
      orBase(axes.peft),
    ]) as [string | undefined, MoeSpec | null | undefined, string | undefined][]) {
      const effective = kind ?? base.attention?.kind ?? 'gqa';
      const varies = (KINDS_WITH_KV_HEADS as readonly string[]).includes(effective);
      for (const [kvHeads, seed, nproc, strategy] of product<number | string | undefined>([
        varies ? orBase(axes.kvHeads) : [undefined],
        orBase(axes.seeds),
        orBase(axes.nproc),
        orBase(axes.parallel),
      ]) as [number | undefined, number | undefined, number | undefined, string | undefined][]) {
        let input: ProfileConfigInput = {
          ...base,
          model: { ...base.model, ...(preset !== undefined ? { preset: String(preset) } : {}) },
          workload: {
            ...base.workload,
            ...(batch !== undefined ? { batch: Number(batch) } : {}),
            ...(seqLen !== undefined ? { seqLen: Number(seqLen) } : {}),
            ...(newTokens !== undefined ? { newTokens: Number(newTokens) } : {}),
          },
        };
        if (stage !== undefined) input.stage = String(stage);
        if (seed !== undefined) input.seed = seed;
        if (nproc !== undefined || strategy !== undefined)
          input.parallel = {
            ...base.parallel,
            ...(nproc !== undefined ? { nproc } : {}),
            ...(strategy !== undefined ? { strategy } : {}),
          };
        if (precision !== undefined) input.precision = String(precision);
        if (moe !== undefined) input.moe = moe;
        if (peft !== undefined && (input.stage ?? 'inference') === 'finetune')
          input.peft = { ...base.peft, method: peft };
        input = withAttention(input, kind, kvHeads);
        // mha and mqa ignore --kv-heads, so a list of KV heads must not repeat them.
        const key = JSON.stringify(input);
        if (!seen.has(key)) {
          seen.add(key);
          inputs.push(input);
        }
      }
    }
  }
  const configs: ProfileConfig[] = [];
  const problems: SweepError[] = [];
  inputs.forEach((input, index) => {
    const r = resolveConfig(input);
    if (r.ok) configs.push(r.value);
    else problems.push({ index, label: describeInput(input), errors: r.errors });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, configs };
}

function describeInput(i: ProfileConfigInput): string {
  const moe = i.moe ? `moe${i.moe.experts ?? ''}x${i.moe.topK ?? ''}` : undefined;
  const procs = i.parallel?.nproc !== undefined ? `${i.parallel.nproc} procs` : undefined;
  return [i.model?.preset, i.attention?.kind, i.attention?.kvHeads, moe, i.peft?.method, i.precision, i.stage, procs]
    .filter((x) => x !== undefined)
    .join(' ');
}
