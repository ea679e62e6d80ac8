// Folds one run's harness events into its RunRecord: pure, so the local, SSH and Slurm targets share it.
import type { ProfileConfig } from './config';
import { computeMetrics } from './metrics';
import { qualityMetrics } from './quality';
import { latencyStdErr } from './repeats';
import type {
  HarnessEvent,
  HelloEvent,
  ResultEvent,
  ErrorEvent,
  SampleEvent,
  EvalEvent,
  MemorySource,
  PeakMemorySource,
  PowerMethod,
  ProtocolProblem,
  ResultCounters,
} from './protocol';
import {
  emptyEnv,
  emptyMetrics,
  RUN_RECORD_SCHEMA,
  type RunRecord,
  type RunError,
  type RunStatus,
  type TargetKind,
} from './record';

/** What is known about a run so far; grows as events arrive. */
export interface RunState {
  hello: HelloEvent | null;
  samples: SampleEvent[];
  evals: EvalEvent[];
  result: ResultEvent | null;
  error: ErrorEvent | null;
  lastProgress: { phase: string; step: number; total: number } | null;
  problems: ProtocolProblem[];
}

export function newRunState(): RunState {
  return { hello: null, samples: [], evals: [], result: null, error: null, lastProgress: null, problems: [] };
}

export function applyEvent(state: RunState, event: HarnessEvent): void {
  switch (event.type) {
    case 'hello':
      state.hello = event;
      break;
    case 'sample':
      state.samples.push(event);
      break;
    case 'eval':
      state.evals.push(event);
      break;
    case 'progress':
      state.lastProgress = { phase: event.phase, step: event.step, total: event.total };
      break;
    case 'result':
      state.result = event;
      break;
    case 'error':
      state.error = event;
      break;
  }
}

/** Analytic figures for the device the run used, supplied by the caller (estimator + GPU catalogue). */
export interface Analytic {
  iterationFlops: number | null;
  peakFlopsPerS: number | null;
  floorS: number | null;
  /** Where the peak came from (a datasheet, or a calibration on the device), for the record's reader. */
  peakSource: string;
  /** The dtype(s) of the kernels the peak is for, e.g. "bf16" or "int8 71% + bf16 29%" (estimate.ts effectivePeak). */
  peakDtype?: string | null;
}

export interface AssembleInput {
  id: string;
  createdAt: string;
  target: { kind: TargetKind; name: string };
  config: ProfileConfig;
  state: RunState;
  /** How the process ended when it gave no result: set by the target. */
  ending: { status: Exclude<RunStatus, 'queued' | 'running' | 'completed'>; message: string } | null;
  stderrTail: string;
  analytic: (deviceName: string | null, deviceMemoryBytes: number | null, counters: ResultCounters) => Analytic;
}

const MAX_SAMPLES_KEPT = 2000;

const MEMORY_TEXT: Readonly<Record<MemorySource, string>> = {
  nvml: 'NVML device memory in use',
  'cuda-reserved': "torch's reserved CUDA memory (no NVML)",
  'rss-delta':
    'resident memory the run added to the harness process (RSS minus its RSS at the start, less the library code pages it faulted in)',
  'process-rss': 'process resident set (no GPU memory counter)',
};
const PEAK_MEMORY_TEXT: Readonly<Record<PeakMemorySource, string>> = {
  'cuda-allocator': "torch's CUDA allocator peak since the run began",
  'rss-delta':
    'peak resident memory the run added to the harness process (VmHWM minus its RSS at the start, less the library code pages it faulted in)',
};
const POWER_METHOD_TEXT: Readonly<Record<PowerMethod, string>> = {
  'energy-counter': "average from NVML's energy counter over the window",
  'power-samples': "mean of NVML power readings (the driver's 1-second averages on Ampere and newer)",
};

/** Keeps a chart-sized, evenly spaced subset of the samples. */
function thin<T>(xs: T[]): T[] {
  if (xs.length <= MAX_SAMPLES_KEPT) return xs;
  const step = xs.length / MAX_SAMPLES_KEPT;
  return Array.from({ length: MAX_SAMPLES_KEPT }, (_, i) => xs[Math.floor(i * step)]);
}

export function assembleRecord(input: AssembleInput): RunRecord {
  const { state } = input;
  const hello = state.hello;
  const env = emptyEnv();
  if (hello) {
    Object.assign(env, {
      python: hello.python,
      torch: hello.torch,
      cuda: hello.cuda,
      device: hello.device,
      nvml: hello.nvml,
      powerScope: hello.powerScope,
      memorySource: hello.memorySource,
      peakMemorySource: hello.peakMemorySource ?? null,
    });
    if (hello.worldSize !== undefined && hello.worldSize > 1) {
      env.worldSize = hello.worldSize;
      env.nodes = hello.nodes ?? 1;
    }
  }
  let status: RunStatus;
  let error: RunError | null = null;
  let metrics = emptyMetrics();
  let peakSource = 'not measured';
  let peakFlops: NonNullable<RunRecord['measurement']>['peakFlops'] = undefined;
  if (state.result) {
    status = 'completed';
    // Older harnesses sent no method: their power was the mean of the samples, where there were any.
    const powerMethod = state.result.counters.powerMethod;
    env.powerMethod =
      powerMethod !== undefined ? powerMethod : state.samples.some((s) => s.powerW !== null) ? 'power-samples' : null;
    const analytic = input.analytic(
      hello?.device.name ?? null,
      hello?.device.memoryBytes ?? null,
      state.result.counters,
    );
    // The FLOPs are one rank's (workload.batch is per rank), so MFU divides by world size × peak.
    peakSource =
      analytic.peakSource +
      (env.worldSize !== undefined ? `; MFU per rank: model FLOPs/s ÷ (world size ${env.worldSize} × this peak)` : '');
    peakFlops = { flopsPerS: analytic.peakFlopsPerS, dtype: analytic.peakDtype ?? null, source: peakSource };
    metrics = computeMetrics({
      config: input.config,
      counters: state.result.counters,
      samples: state.samples,
      deviceMemoryBytes: hello?.device.memoryBytes ?? null,
      iterationFlops: analytic.iterationFlops,
      peakFlopsPerS: analytic.peakFlopsPerS,
      floorS: analytic.floorS,
    });
    Object.assign(metrics, qualityMetrics(state.result.counters));
    metrics.latencyStdErrS = latencyStdErr(state.result.counters.iterationS);
  } else if (state.error) {
    status = 'failed';
    error = { kind: state.error.kind, message: state.error.message, stderrTail: input.stderrTail };
  } else {
    status = input.ending?.status ?? 'failed';
    error = {
      kind: status === 'cancelled' ? 'harness-exit' : state.problems.length > 0 ? 'protocol' : 'harness-exit',
      message: input.ending?.message ?? 'the harness ended without a result',
      stderrTail: input.stderrTail,
    };
  }
  return {
    schema: RUN_RECORD_SCHEMA,
    id: input.id,
    createdAt: input.createdAt,
    status,
    target: input.target,
    config: input.config,
    env,
    metrics,
    measurement: hello
      ? {
          memory:
            MEMORY_TEXT[hello.memorySource] +
            (hello.peakMemorySource ? `; peak: ${PEAK_MEMORY_TEXT[hello.peakMemorySource]}` : ''),
          utilization: hello.nvml ? 'NVML utilisation: share of time a kernel was running' : 'not measured (no NVML)',
          power:
            (hello.powerScope === 'module'
              ? 'NVML power of the whole GH200 module'
              : hello.powerScope === 'gpu'
                ? 'NVML GPU power'
                : 'not measured (no NVML)') + (env.powerMethod ? `, ${POWER_METHOD_TEXT[env.powerMethod]}` : ''),
          timing: hello.cuda ? 'CUDA events, synchronised at window edges' : 'perf_counter on the host',
          peak: peakSource,
          ...(peakFlops ? { peakFlops } : {}),
        }
      : null,
    ...(state.result?.counters.perRank ? { perRank: state.result.counters.perRank.map((r) => ({ ...r })) } : {}),
    evals: state.evals.map(({ tokens, seconds, valLoss }) => ({ tokens, seconds, valLoss })),
    samples: thin(state.samples).map(({ t, memoryBytes, utilization, powerW }) => ({
      t,
      memoryBytes,
      utilization,
      powerW,
    })),
    protocolProblems: state.problems.map((p) => `line ${p.line}: ${p.reason}: ${p.text.slice(0, 200)}`),
    error,
  };
}
