// RunRecord v1: what `profile --json` prints and `.efficientllm/runs/<id>.json` keeps (DESIGN.md).
import type { ProfileConfig } from './config';
import type { TargetSpec } from './targetSpec';
import type {
  HarnessErrorKind,
  MemorySource,
  PeakMemorySource,
  PowerMethod,
  RankCounters,
  SampleEvent,
} from './protocol';

export const RUN_RECORD_SCHEMA = 1;

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type TargetKind = 'local' | 'ssh' | 'slurm';

/** Where a run ran: kind and name as shown, and the spec to rerun it exactly (absent in older records). */
export interface RunTarget {
  kind: TargetKind;
  name: string;
  spec?: TargetSpec;
}

export interface RunEnv {
  python: string | null;
  torch: string | null;
  cuda: string | null;
  device: { name: string; memoryBytes: number } | null;
  nvml: boolean;
  powerScope: 'gpu' | 'module' | null;
  /** Where the memory samples (AMU) came from. */
  memorySource: MemorySource | null;
  /** Where peakMemoryBytes came from (absent in older records). */
  peakMemorySource?: PeakMemorySource | null;
  /** How powerW was measured: NVML's energy counter ÷ window, or the mean of power readings (absent in older records). */
  powerMethod?: PowerMethod | null;
  /** Processes of a data-parallel run (torch.distributed world size); absent in older records: 1. */
  worldSize?: number;
  /** Nodes its ranks ran on; absent: 1. */
  nodes?: number;
}

/** Every metric is null when the run could not measure it, never 0. Units are in the names. */
export interface RunMetrics {
  params: number | null;
  activeParams: number | null;
  trainableParams: number | null;
  weightBytes: number | null;
  kvCacheBytes: number | null;
  peakMemoryBytes: number | null;
  amuBytes: number | null;
  amuFraction: number | null;
  pcu: number | null;
  mfu: number | null;
  latencyS: number | null;
  ttftS: number | null;
  tpotS: number | null;
  tokensPerS: number | null;
  samplesPerS: number | null;
  tokensPerParamPerS: number | null;
  powerW: number | null;
  energyJ: number | null;
  joulesPerToken: number | null;
  compressionRate: number | null;
  quality: number | null;
  mcr: number | null;
  floorS: number | null;
  rooflineFraction: number | null;
  /** Quality beside cost (with a training budget; null otherwise): held-out loss at the end, nats/token. */
  valLoss: number | null;
  /** exp(valLoss). */
  perplexity: number | null;
  /** The synthetic source's exact conditional entropy, nats/token: the floor no loss can beat. */
  dataEntropy: number | null;
  /** Fine-tuning: the base model's held-out loss on the task before fine-tuning. */
  baseValLoss: number | null;
  /** Tokens actually trained. */
  trainTokens: number | null;
  /** Standard error of the mean step time (latencyS): within one run, a latency difference inside it is a tie. */
  latencyStdErrS: number | null;
  /**
   * Data-parallel runs: tokens/s ÷ (world size × tokens/s of the 1-process run of the same config in
   * the same sweep or store, scaling.ts); null without that sibling or for one process.
   */
  scalingEfficiency: number | null;
}

export const METRIC_NAMES: readonly (keyof RunMetrics)[] = [
  'params',
  'activeParams',
  'trainableParams',
  'weightBytes',
  'kvCacheBytes',
  'peakMemoryBytes',
  'amuBytes',
  'amuFraction',
  'pcu',
  'mfu',
  'latencyS',
  'ttftS',
  'tpotS',
  'tokensPerS',
  'samplesPerS',
  'tokensPerParamPerS',
  'powerW',
  'energyJ',
  'joulesPerToken',
  'compressionRate',
  'quality',
  'mcr',
  'floorS',
  'rooflineFraction',
  'valLoss',
  'perplexity',
  'dataEntropy',
  'baseValLoss',
  'trainTokens',
  'latencyStdErrS',
  'scalingEfficiency',
];

export function emptyMetrics(): RunMetrics {
  const m = {} as Record<keyof RunMetrics, number | null>;
  for (const k of METRIC_NAMES) m[k] = null;
  return m;
}

export interface RunEval {
  tokens: number;
  seconds: number;
  valLoss: number;
}

export interface RunError {
  kind: HarnessErrorKind | 'harness-exit' | 'protocol';
  message: string;
  stderrTail: string;
}

export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  id: string;
  createdAt: string;
  status: RunStatus;
  target: RunTarget;
  config: ProfileConfig;
  env: RunEnv;
  metrics: RunMetrics;
  /** How the numbers were measured, for people reading them later. */
  measurement: {
    memory: string;
    utilization: string;
    power: string;
    timing: string;
    /** What MFU and the roofline floor divide by: a datasheet figure or a calibration on the device (absent in older records). */
    peak?: string;
    /** The peak MFU divides by: its value (null: none known, so MFU is null), the dtype(s) it is for, its source (absent in older records). */
    peakFlops?: { flopsPerS: number | null; dtype: string | null; source: string };
  } | null;
  /** Data-parallel runs: each rank's own counters (tokens/s, peak memory, step time, energy); absent for one process. */
  perRank?: RankCounters[];
  /** Held-out evaluations while training to a budget, in order (absent in older records). */
  evals?: RunEval[];
  /** Monitor samples of the run (memory, utilisation, power), for charts. */
  samples: Pick<SampleEvent, 't' | 'memoryBytes' | 'utilization' | 'powerW'>[];
  /** Lines of the event stream that were not valid protocol, reported, not fatal. */
  protocolProblems: string[];
  error: RunError | null;
}

export function emptyEnv(): RunEnv {
  return { python: null, torch: null, cuda: null, device: null, nvml: false, powerScope: null, memorySource: null };
}

/** Runs on targets of `kind` that the store still shows as queued or running: a process may still be at work on them. */
export function openRuns(records: readonly RunRecord[], kind: TargetKind): RunRecord[] {
  return records.filter((r) => r.target.kind === kind && (r.status === 'running' || r.status === 'queued'));
}
