// Harness protocol v1: the JSON lines the Python harness writes (src/harness/efficientllm_harness/protocol.py
// is the other half; test/unit/protocol.test.ts and test/python/test_protocol.py round-trip them).
// One object per line. An unknown or broken line becomes a `ProtocolProblem`, never an exception.

export const PROTOCOL_VERSION = 1;

export const ERROR_KINDS = ['oom', 'unsupported', 'invalid-config', 'crash'] as const;
export type HarnessErrorKind = (typeof ERROR_KINDS)[number];

export interface DeviceInfo {
  name: string;
  memoryBytes: number;
}

export const MEMORY_SOURCES = ['nvml', 'cuda-reserved', 'rss-delta', 'process-rss'] as const;
export type MemorySource = (typeof MEMORY_SOURCES)[number];
export const PEAK_MEMORY_SOURCES = ['cuda-allocator', 'rss-delta'] as const;
export type PeakMemorySource = (typeof PEAK_MEMORY_SOURCES)[number];
/** How a window's average power was measured: NVML's energy counter ÷ the window, or the mean of power readings. */
export const POWER_METHODS = ['energy-counter', 'power-samples'] as const;
export type PowerMethod = (typeof POWER_METHODS)[number];

export interface HelloEvent {
  type: 'hello';
  protocol: number;
  python: string;
  torch: string;
  cuda: string | null;
  device: DeviceInfo;
  /** True when pynvml imported and initialised. */
  nvml: boolean;
  /** What the power reading covers: the GPU, the whole GH200 module, or nothing measured. */
  powerScope: 'gpu' | 'module' | null;
  /**
   * Where memory samples (AMU) come from: NVML device memory, torch's reserved GPU bytes (no NVML), the
   * resident memory the run added to the harness process (CPU), or (older harnesses) the whole process's RSS.
   */
  memorySource: MemorySource;
  /** Where peakMemoryBytes comes from: torch's CUDA allocator peak, or the run's RSS delta (absent from older harnesses). */
  peakMemorySource?: PeakMemorySource;
  /** Processes of a data-parallel run (torch.distributed world size); absent from older harnesses: 1. */
  worldSize?: number;
  /** Nodes the ranks ran on; absent: 1. */
  nodes?: number;
}

export interface ProgressEvent {
  type: 'progress';
  phase: string;
  step: number;
  total: number;
}

export interface SampleEvent {
  type: 'sample';
  /** Seconds on the harness's monotonic clock. */
  t: number;
  memoryBytes: number;
  /** NVML utilisation (kernel-busy share, 0–100), null without NVML. */
  utilization: number | null;
  powerW: number | null;
}

/** One rank's own counters in a data-parallel run, gathered by rank 0. */
export interface RankCounters {
  rank: number;
  /** The rank's tokens (generated tokens for inference) ÷ its own measured seconds. */
  tokensPerS: number;
  /** The rank's own peak (its CUDA allocator, or the RSS its run added), null where not measured. */
  peakMemoryBytes: number | null;
  /** The rank's mean measured iteration, seconds. */
  stepS: number;
  /** The rank's GPU energy over its window (NVML's counter), null where not measured. */
  energyJ: number | null;
}

/** Raw counters of one measured run; src/core/metrics.ts turns them into RunRecord metrics. */
export interface ResultCounters {
  params: number;
  activeParams: number;
  trainableParams: number;
  /** Bytes of the weights as stored in memory (packed for int8/int4). */
  weightBytes: number;
  /** Bytes the weights would take in the reference precision (bf16), for the compression rate. */
  referenceWeightBytes: number;
  /** Bytes of the KV cache tensors at their largest (inference), null otherwise. */
  kvCacheBytes: number | null;
  optimizerStateBytes: number | null;
  /** Peak bytes allocated by torch on the device (CUDA), or peak process RSS on CPU. */
  peakMemoryBytes: number | null;
  /** Measured iterations (steps after warm-up). */
  iterations: number;
  /** Seconds of each measured iteration, timed with CUDA events or perf_counter. */
  iterationS: number[];
  /** Tokens fed through the model per iteration (pretrain/finetune: batch × seqLen; inference: batch × (seqLen + newTokens − 1)). */
  tokensPerIteration: number;
  /** Tokens generated per iteration (inference: batch × newTokens; otherwise 0). */
  generatedTokensPerIteration: number;
  /** Mean prefill seconds (inference), null otherwise. */
  ttftS: number | null;
  /** Mean seconds per decoded token after the first (inference), null otherwise. */
  tpotS: number | null;
  /** Start and end of the measured window on the sample clock. */
  windowStartT: number;
  windowEndT: number;
  /** Energy from NVML's total-energy counter over the window, null where the GPU has none. */
  energyJ: number | null;
  /** Quality for MCR (agreement with the bf16 reference, or perplexity), null when not measured. */
  quality: number | null;
  loss: number | null;
  /** Matmul peak and copy bandwidth measured on devices without datasheet figures (CPUs); absent or null on GPUs. */
  measuredPeakFlopsPerS?: number | null;
  measuredBandwidthBytesPerS?: number | null;
  /** Quality beside cost, with a training budget only (absent or null otherwise): the held-out loss at the end (nats/token). */
  valLoss?: number | null;
  /** Fine-tuning: the base model's held-out loss on the task before fine-tuning. */
  baseValLoss?: number | null;
  /** The synthetic source's exact conditional entropy (nats/token): the floor no model can beat. */
  dataEntropy?: number | null;
  /** Tokens actually trained. */
  trainTokens?: number | null;
  /** How `quality` was measured: held-out perplexity of a trained model, or agreement on random weights. */
  qualitySource?: 'perplexity' | 'agreement' | null;
  /** The window's average power from NVML's energy counter (energyJ ÷ window), null where it has none. */
  powerW?: number | null;
  /** How the window's average power is measured; null where power is not measured. */
  powerMethod?: PowerMethod | null;
  /**
   * Data-parallel runs (hello.worldSize > 1): each rank's own counters. Then tokensPerIteration and
   * generatedTokensPerIteration count every rank, iterationS holds each step's slowest rank, energyJ
   * sums the ranks, and the other counters are rank 0's. Absent or null for one process.
   */
  perRank?: RankCounters[] | null;
}

export interface ResultEvent {
  type: 'result';
  counters: ResultCounters;
}

/** A held-out evaluation while training to a budget. */
export interface EvalEvent {
  type: 'eval';
  /** Tokens trained so far. */
  tokens: number;
  /** Training seconds so far, evaluation time excluded. */
  seconds: number;
  valLoss: number;
}

export interface ErrorEvent {
  type: 'error';
  kind: HarnessErrorKind;
  message: string;
}

export type HarnessEvent = HelloEvent | ProgressEvent | SampleEvent | EvalEvent | ResultEvent | ErrorEvent;

export interface ProtocolProblem {
  line: number;
  text: string;
  reason: string;
}

export type ParsedLine = { ok: true; event: HarnessEvent } | { ok: false; problem: ProtocolProblem };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): v is number | null => v === null || isNum(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

const COUNTER_NUMBERS = [
  'params',
  'activeParams',
  'trainableParams',
  'weightBytes',
  'referenceWeightBytes',
  'iterations',
  'tokensPerIteration',
  'generatedTokensPerIteration',
  'windowStartT',
  'windowEndT',
] as const;
const COUNTER_NULLABLE = [
  'kvCacheBytes',
  'optimizerStateBytes',
  'peakMemoryBytes',
  'ttftS',
  'tpotS',
  'energyJ',
  'quality',
  'loss',
] as const;

/** Why a result's perRank is not a list of RankCounters, or null when it is (absent and null are fine). */
function perRankReason(v: Json | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) return 'result.counters.perRank is not a list';
  for (const [i, r] of v.entries()) {
    const at = `result.counters.perRank[${i}]`;
    if (!isObject(r)) return `${at} is not an object`;
    if (!isNum(r.rank) || !isNum(r.tokensPerS) || !isNum(r.stepS)) return `${at} needs rank, tokensPerS and stepS`;
    if (!isNumOrNull(r.peakMemoryBytes) || !isNumOrNull(r.energyJ))
      return `${at}.peakMemoryBytes and energyJ are numbers or null`;
  }
  return null;
}

/** Returns why `o` is not a valid event, or null when it is. */
function invalidReason(o: JsonObject): string | null {
  switch (o.type) {
    case 'hello': {
      const d = o.device;
      if (!isNum(o.protocol)) return 'hello.protocol is not a number';
      if (o.protocol !== PROTOCOL_VERSION)
        return `hello.protocol ${o.protocol} is not ${PROTOCOL_VERSION}; upload the matching harness`;
      if (!isStr(o.python) || !isStr(o.torch)) return 'hello.python or hello.torch is not a string';
      if (!(o.cuda === null || isStr(o.cuda))) return 'hello.cuda is not a string or null';
      if (!isObject(d) || !isStr(d.name) || !isNum(d.memoryBytes)) return 'hello.device needs name and memoryBytes';
      if (typeof o.nvml !== 'boolean') return 'hello.nvml is not a boolean';
      if (!(o.powerScope === null || o.powerScope === 'gpu' || o.powerScope === 'module'))
        return 'hello.powerScope is not gpu, module or null';
      if (!(MEMORY_SOURCES as readonly Json[]).includes(o.memorySource))
        return `hello.memorySource is not one of ${MEMORY_SOURCES.join(', ')}`;
      if (o.peakMemorySource !== undefined && !(PEAK_MEMORY_SOURCES as readonly Json[]).includes(o.peakMemorySource))
        return `hello.peakMemorySource is not one of ${PEAK_MEMORY_SOURCES.join(', ')}`;
      for (const k of ['worldSize', 'nodes'] as const) {
        const n = o[k];
        if (n !== undefined && !(isNum(n) && Number.isInteger(n) && n >= 1))
          return `hello.${k} is not a whole number ≥ 1`;
      }
      return null;
    }
    case 'progress':
      return isStr(o.phase) && isNum(o.step) && isNum(o.total) ? null : 'progress needs phase, step and total';
    case 'eval':
      return isNum(o.tokens) && isNum(o.seconds) && isNum(o.valLoss) ? null : 'eval needs tokens, seconds and valLoss';
    case 'sample':
      return isNum(o.t) && isNum(o.memoryBytes) && isNumOrNull(o.utilization) && isNumOrNull(o.powerW)
        ? null
        : 'sample needs t, memoryBytes, utilization and powerW';
    case 'result': {
      const c = o.counters;
      if (!isObject(c)) return 'result.counters is missing';
      for (const k of COUNTER_NUMBERS) if (!isNum(c[k])) return `result.counters.${k} is not a number`;
      for (const k of COUNTER_NULLABLE) if (!isNumOrNull(c[k])) return `result.counters.${k} is not a number or null`;
      for (const k of [
        'measuredPeakFlopsPerS',
        'measuredBandwidthBytesPerS',
        'valLoss',
        'baseValLoss',
        'dataEntropy',
        'trainTokens',
        'powerW',
      ] as const) {
        if (c[k] !== undefined && !isNumOrNull(c[k])) return `result.counters.${k} is not a number or null`;
      }
      const qs = c.qualitySource;
      if (qs !== undefined && qs !== null && qs !== 'perplexity' && qs !== 'agreement')
        return 'result.counters.qualitySource is not perplexity, agreement or null';
      const pm = c.powerMethod;
      if (pm !== undefined && pm !== null && !(POWER_METHODS as readonly Json[]).includes(pm))
        return `result.counters.powerMethod is not one of ${POWER_METHODS.join(', ')} or null`;
      const it = c.iterationS;
      if (!Array.isArray(it) || !it.every(isNum)) return 'result.counters.iterationS is not a list of numbers';
      return perRankReason(c.perRank);
    }
    case 'error':
      return (ERROR_KINDS as readonly Json[]).includes(o.kind) && isStr(o.message)
        ? null
        : `error needs kind (one of ${ERROR_KINDS.join(', ')}) and message`;
    default:
      return `unknown event type ${JSON.stringify(o.type ?? null)}`;
  }
}

export function parseEventLine(text: string, line: number): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: { line, text, reason: 'not JSON' } };
  }
  if (!isObject(value)) return { ok: false, problem: { line, text, reason: 'not a JSON object' } };
  const reason = invalidReason(value);
  if (reason !== null) return { ok: false, problem: { line, text, reason } };
  // Checked field by field above; the cast only names the union member.
  return { ok: true, event: value as unknown as HarnessEvent };
}
