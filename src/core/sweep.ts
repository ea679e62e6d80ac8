// Sweep expansion: a base config plus lists of values → the product of single configs, each resolved.
import {
  resolveConfig,
  type AttentionKind,
  type FieldError,
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
}

export interface SweepError {
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
      for (const [kvHeads, seed] of product<number | undefined>([
        varies ? orBase(axes.kvHeads) : [undefined],
        orBase(axes.seeds),
      ])) {
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
  return [i.model?.preset, i.attention?.kind, i.attention?.kvHeads, moe, i.peft?.method, i.precision, i.stage]
    .filter((x) => x !== undefined)
    .join(' ');
}
