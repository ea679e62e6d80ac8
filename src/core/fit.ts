// Preflight by estimate: before a sweep starts, each config's peak memory is estimated from its shape
// (weights, KV cache, activations, gradients and optimizer state) and compared with the target's
// device memory where that is known. The estimate is a floor, built only from tensors the harness
// must hold at once, so a config refused here cannot fit however the run goes; one that passes may
// still run out of memory (allocator slack, the CUDA context, the attention's own buffers).
// No I/O: the caller says what memory the target has (src/run/deviceMemory.ts for this machine).
import type { ProfileConfig } from './config';
import {
  archFromConfig,
  kvBytesPerToken,
  kvElementBytes,
  trainableParams,
  weightBytes,
  type ModelArch,
} from './estimate';
import { formatBytes } from './units';

export interface MemoryEstimate {
  /** Weights as stored (the estimator's byte-for-byte rule of the harness). */
  weightBytes: number;
  /** The static KV cache the harness allocates for seqLen + newTokens positions (inference). */
  kvCacheBytes: number;
  /** The largest set of activations alive at one moment (see activationBytes). */
  activationBytes: number;
  /** One gradient per trainable parameter, in the weights' dtype (training). */
  gradientBytes: number;
  /** AdamW's two moments per trainable parameter, in the weights' dtype as the harness keeps them (training). */
  optimizerBytes: number;
  /** The floor of the peak: what must be resident together at the fullest moment of a step. */
  totalBytes: number;
}

/** The memory a target's runs get: one GPU's, or this machine's RAM where the harness runs on the CPU. */
export interface DeviceMemory {
  /** How messages name it: "local CPU", "local GPU NVIDIA H200", "slurm:hpc GPU H100 SXM (catalogue)". */
  name: string;
  bytes: number;
}

/**
 * Activations at the fullest moment, counting only tensors that must coexist, in the compute dtype
 * (bf16 for the weight-only int8/int4/fp8, like the cache). Inference: in a prefill MLP the residual
 * stream, its norm and the gate and up projections of every prompt token (B·L·(2·hidden + 2·ffn)); an
 * MoE's experts may run one at a time, so only the residual and its norm are counted. Training: what
 * autograd saves for backward in each layer that gradients pass through (every layer, but for freeze
 * tuning only the trained last ones): the norm's input and output (2·hidden) and the MLP's gate and up
 * outputs (2·ffn per active expert), plus the logits and their fp32 log-softmax for the loss
 * (B·L·vocab·(e + 4)).
 */
function activationBytes(cfg: ProfileConfig, a: ModelArch): number {
  const { batch, seqLen } = cfg.workload;
  const e = kvElementBytes(cfg.precision);
  const s = a.shape;
  const tokens = batch * seqLen;
  if (cfg.stage === 'inference') return tokens * (2 * s.hidden + (a.moe ? 0 : 2 * s.ffn)) * e;
  const mlpWidth = a.moe ? (a.moe.topK + a.moe.shared) * a.moe.expertFfn : s.ffn;
  const layers = cfg.peft?.method === 'freeze' ? Math.min(s.layers, cfg.peft.rank) : s.layers;
  return tokens * (layers * (2 * s.hidden + 2 * mlpWidth) * e + s.vocab * (e + 4));
}

/**
 * The floor of a config's peak memory, or null where its shape is not known here (a Hugging Face
 * checkpoint: pass its parsed arch). Training holds weights and, from the second iteration on, the
 * optimizer state throughout; activations are freed as gradients are made, so the larger of the two
 * counts (with a single iteration, the optimizer state appears only at its step, beside the gradients).
 */
export function estimatePeakMemory(cfg: ProfileConfig, arch?: ModelArch): MemoryEstimate | null {
  const a = arch ?? archFromConfig(cfg);
  if (!a) return null;
  const weights = weightBytes(a, cfg.precision);
  const activations = activationBytes(cfg, a);
  if (cfg.stage === 'inference') {
    const { batch, seqLen, newTokens } = cfg.workload;
    const kv = kvBytesPerToken(a, cfg.precision) * batch * (seqLen + newTokens);
    return {
      weightBytes: weights,
      kvCacheBytes: kv,
      activationBytes: activations,
      gradientBytes: 0,
      optimizerBytes: 0,
      totalBytes: weights + kv + activations,
    };
  }
  const trainable = trainableParams(a, cfg.stage, cfg.peft);
  const gradients = trainable * kvElementBytes(cfg.precision);
  const optimizer = 2 * gradients;
  const iterations = cfg.workload.warmup + cfg.workload.steps;
  const rest =
    iterations >= 2 ? optimizer + Math.max(gradients, activations) : Math.max(gradients + optimizer, activations);
  return {
    weightBytes: weights,
    kvCacheBytes: 0,
    activationBytes: activations,
    gradientBytes: gradients,
    optimizerBytes: optimizer,
    totalBytes: weights + rest,
  };
}

/** "weights 2.0 GiB, KV cache 3.0 TiB, activations 12 MiB": the parts that are not zero. */
export function describeEstimate(m: MemoryEstimate): string {
  const parts: [string, number][] = [
    ['weights', m.weightBytes],
    ['KV cache', m.kvCacheBytes],
    ['activations', m.activationBytes],
    ['gradients', m.gradientBytes],
    ['optimizer state', m.optimizerBytes],
  ];
  return parts
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${formatBytes(v)}`)
    .join(', ');
}

export interface FitRefusal {
  index: number;
  config: ProfileConfig;
  estimate: MemoryEstimate;
  message: string;
}

export interface FitVerdict {
  refused: FitRefusal[];
  /** Lines for the log: what was not checked and why (unknown memory, a checkpoint's unknown shape). */
  notes: string[];
}

/**
 * Checks every config against the device memory (null: unknown, nothing is refused and a note says
 * so). A refusal names the config, the estimate with its parts, the memory, and what to change.
 */
export function checkFit(
  configs: readonly ProfileConfig[],
  memory: DeviceMemory | null,
  targetName: string,
): FitVerdict {
  if (memory === null)
    return {
      refused: [],
      notes: [`${targetName}: device memory unknown before the runs start; configs are not checked against it`],
    };
  const refused: FitRefusal[] = [];
  const unknownShape: string[] = [];
  configs.forEach((config, index) => {
    const estimate = estimatePeakMemory(config);
    if (!estimate) {
      unknownShape.push(config.label);
      return;
    }
    if (estimate.totalBytes <= memory.bytes) return;
    refused.push({
      index,
      config,
      estimate,
      message:
        `config ${index + 1} (${config.label}) needs ≈ ${formatBytes(estimate.totalBytes)} ` +
        `(a floor: ${describeEstimate(estimate)}); ${memory.name} has ${formatBytes(memory.bytes)}`,
    });
  });
  const notes =
    unknownShape.length > 0
      ? [`not checked against ${memory.name} (shape read on the target): ${unknownShape.join(', ')}`]
      : [];
  return { refused, notes };
}

/** Thrown before anything is stored or started when a config cannot fit; the message says what to do. */
export class FitError extends Error {
  constructor(
    readonly refused: readonly FitRefusal[],
    /** How the caller's user tries anyway, in their terms: "pass --no-fit-check". */
    override: string,
  ) {
    super(
      `${refused.map((r) => r.message).join('; ')}. Make ${refused.length === 1 ? 'it' : 'them'} smaller ` +
        `(workload.batch, workload.seqLen, the model or its precision) or ${override} to try anyway`,
    );
  }
}

export interface FitCheck {
  /** The target's device memory, or null when it is not known before the runs start. */
  memory: () => Promise<DeviceMemory | null>;
  /** Where the notes go (what was not checked and why). */
  log: (line: string) => void;
  /** How to skip the check, in the caller's terms ("pass --no-fit-check"). */
  override: string;
}

/** The orchestrator's call: every config checked, notes logged, FitError thrown for any that cannot fit. */
export async function refuseWhatCannotFit(
  configs: readonly ProfileConfig[],
  targetName: string,
  check: FitCheck,
): Promise<void> {
  const verdict = checkFit(configs, await check.memory(), targetName);
  for (const note of verdict.notes) check.log(note);
  if (verdict.refused.length > 0) throw new FitError(verdict.refused, check.override);
}
