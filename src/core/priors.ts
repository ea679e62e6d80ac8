// Priors: what the EfficientLLM study (arXiv 2505.13840) found on its own models and hardware
// (48×GH200 + 8×H200). They are shown before the user has measured anything, and next to measured
// recommendations, always labelled as findings of the study, never as measurements of the user's runs.
// Pure data and matching; no I/O.
import type { AttentionKind, PeftMethod, Precision, Stage } from './config';
import type { RunRecord } from './record';

export const PRIOR_SOURCE = 'EfficientLLM, arXiv 2505.13840';

/** GPU families a prior can be limited to; matched as whole words in the device name ("NVIDIA GH200 480GB"). */
export const GPU_FAMILIES = ['H100', 'H200', 'GH200'] as const;
export type GpuFamily = (typeof GPU_FAMILIES)[number];

/** Hopper parts, where the study's bf16-versus-fp16 finding was measured. */
export const HOPPER: readonly GpuFamily[] = ['H100', 'H200', 'GH200'];

/**
 * Where a prior applies. Each field that is present must match; a dimension matches a group of runs
 * when a run uses one of the listed values, or when the group compares several values of that
 * dimension (then the prior speaks to the choice being made). `moe` matches when a run uses MoE;
 * `gpu` when a run's device belongs to one of the families.
 */
export interface PriorConditions {
  attention?: readonly AttentionKind[];
  peft?: readonly PeftMethod[];
  precision?: readonly Precision[];
  moe?: true;
  gpu?: readonly GpuFamily[];
}

export interface Prior {
  id: string;
  /** Always "prior": a finding of the study, not a measurement. */
  kind: 'prior';
  text: string;
  conditions: PriorConditions;
  source: string;
}

const prior = (id: string, text: string, conditions: PriorConditions): Prior => ({
  id,
  kind: 'prior',
  text,
  conditions,
  source: PRIOR_SOURCE,
});

export const PRIORS: readonly Prior[] = [
  prior(
    'mqa-memory-latency',
    'MQA gave the best memory–latency trade-off among attention variants on memory-constrained devices.',
    {
      attention: ['mqa'],
    },
  ),
  prior('mla-perplexity', 'MLA reached the lowest perplexity among the attention variants.', { attention: ['mla'] }),
  prior('moe-memory', 'MoE bought its accuracy gains with about 40% more memory than the comparable dense model.', {
    moe: true,
  }),
  prior(
    'rslora-14b',
    'RSLoRA was ahead of LoRA only for models beyond about 14B parameters; below that, LoRA did as well.',
    {
      peft: ['lora', 'rslora'],
    },
  ),
  prior('int4-memory', 'int4 weights took up to about 3.9× less memory, at a 3–5% drop in accuracy.', {
    precision: ['int4'],
  }),
  prior('bf16-hopper', 'On Hopper GPUs (H100, H200, GH200), bf16 was ahead of fp16 in both latency and energy.', {
    precision: ['bf16', 'fp16'],
    gpu: HOPPER,
  }),
];

/** The family of a device name, or null. "GH200" is not an "H200": the family must be a whole word. */
export function gpuFamily(deviceName: string | null | undefined): GpuFamily | null {
  if (!deviceName) return null;
  // Longest first, so "GH200" is tried before "H200".
  for (const f of [...GPU_FAMILIES].sort((a, b) => b.length - a.length)) {
    if (new RegExp(`(^|[^A-Za-z0-9])${f}([^A-Za-z0-9]|$)`, 'i').test(deviceName)) return f;
  }
  return null;
}

/** What a set of runs uses, for matching priors against it. */
export interface PriorContext {
  stages: ReadonlySet<Stage>;
  attention: ReadonlySet<AttentionKind>;
  peft: ReadonlySet<PeftMethod>;
  precision: ReadonlySet<Precision>;
  moe: boolean;
  gpus: ReadonlySet<GpuFamily>;
}

export function priorContext(runs: readonly Pick<RunRecord, 'config' | 'env'>[]): PriorContext {
  const gpus = new Set<GpuFamily>();
  for (const r of runs) {
    const f = gpuFamily(r.env.device?.name);
    if (f) gpus.add(f);
  }
  return {
    stages: new Set(runs.map((r) => r.config.stage)),
    attention: new Set(runs.map((r) => r.config.attention.kind)),
    peft: new Set(runs.flatMap((r) => (r.config.peft ? [r.config.peft.method] : []))),
    precision: new Set(runs.map((r) => r.config.precision)),
    moe: runs.some((r) => r.config.moe !== null),
    gpus,
  };
}

function dimensionMatches<T>(wanted: readonly T[] | undefined, used: ReadonlySet<T>): boolean {
  if (wanted === undefined) return true;
  return used.size > 1 || wanted.some((w) => used.has(w));
}

export function priorApplies(p: Prior, ctx: PriorContext): boolean {
  const c = p.conditions;
  if (!dimensionMatches(c.attention, ctx.attention)) return false;
  if (!dimensionMatches(c.peft, ctx.peft)) return false;
  if (!dimensionMatches(c.precision, ctx.precision)) return false;
  if (c.moe && !ctx.moe) return false;
  if (c.gpu && !c.gpu.some((g) => ctx.gpus.has(g))) return false;
  return true;
}

/** The priors that speak to the techniques (and hardware) of `runs`, in catalogue order. */
export function relevantPriors(
  runs: readonly Pick<RunRecord, 'config' | 'env'>[],
  priors: readonly Prior[] = PRIORS,
): Prior[] {
  const ctx = priorContext(runs);
  return priors.filter((p) => priorApplies(p, ctx));
}

/** "attention mqa; gpu H100/H200/GH200" — where a prior applies, for people. */
export function describeConditions(c: PriorConditions): string {
  const parts: string[] = [];
  if (c.attention) parts.push(`attention ${c.attention.join('/')}`);
  if (c.peft) parts.push(`peft ${c.peft.join('/')}`);
  if (c.precision) parts.push(`precision ${c.precision.join('/')}`);
  if (c.moe) parts.push('moe');
  if (c.gpu) parts.push(`gpu ${c.gpu.join('/')}`);
  return parts.length > 0 ? parts.join('; ') : 'any run';
}

/** One line: "[prior] text (applies to: …; EfficientLLM, arXiv 2505.13840)". */
export function formatPrior(p: Prior): string {
  return `[prior] ${p.text} (applies to: ${describeConditions(p.conditions)}; ${p.source})`;
}
