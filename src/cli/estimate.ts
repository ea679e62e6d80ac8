// `efficientllm estimate CONFIG.json | --preset NAME [profile's model and workload flags] [--gpu NAME] [--json]`
// Instant analytic numbers for a model, no GPU needed: parameters, weight and KV bytes, FLOPs of the
// prefill, the decode steps and a training step as the harness runs them, and roofline floors per
// phase on a catalogued GPU. The model flags are profile's (modelSweepFromFlags), one value each.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_WORKLOAD,
  PRECISIONS,
  PRESET_NAMES,
  formatFieldErrors,
  resolveConfig,
  type PeftSpec,
  type Precision,
  type ProfileConfig,
  type ProfileConfigInput,
  type Stage,
} from '../core/config';
import { archFromConfig, estimateModel, type ModelArch, type ModelEstimate } from '../core/estimate';
import { expandSweep } from '../core/sweep';
import { modelSweepFromFlags, SWEEP_FLAGS, type ModelFlag } from './profile';
import { GPUS, GPU_NAMES, findGpuByUserName, type GpuSpec } from '../core/gpus';
import { isHfConfig, parseHfConfig } from '../core/hfConfig';
import { UsageError, type CliIo, type Subcommand } from './io';

const USAGE =
  'usage: efficientllm estimate CONFIG.json | --preset NAME [--attention K] [--kv-heads N] [--moe ExK[+S]] ' +
  '[--stage S] [--peft M] [--precision P] [--batch N] [--seq-len N] [--new-tokens N] [--gpu NAME] [--json]';

/** profile's model and workload flags, less the ones that repeat or spread runs (seeds, processes). */
const MODEL_FLAGS = SWEEP_FLAGS.filter((f) => f !== 'seeds' && f !== 'nproc' && f !== 'parallel');
/** The flags that also apply to a CONFIG.json (its workload and dtype); the rest describe a preset's model. */
const FILE_FLAGS: readonly ModelFlag[] = ['precision', 'batch', 'seq-len', 'new-tokens'];

const quoted = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} ${JSON.stringify(v)} is not allowed; use an integer ≥ 1`);
  return n;
}

interface Subject {
  label: string;
  arch: ModelArch;
  precision: Precision;
  batch: number;
  seqLen: number;
  newTokens: number;
  stage: Stage;
  /** The PEFT method of the training step (finetune); null: full training. */
  peft: PeftSpec | null;
  /** The resolved config estimated (a preset with flags, or a ProfileConfig file); null for a config.json. */
  config: ProfileConfig | null;
}

interface Overrides {
  precision?: Precision;
  batch?: number;
  seqLen?: number;
  newTokens?: number;
}

async function loadJson(path: string, io: CliIo): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, path), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function fromProfileInput(input: ProfileConfigInput, label: string, over: Overrides): Subject {
  const r = resolveConfig(input);
  if (!r.ok) throw new UsageError(`${label}: ${formatFieldErrors(r.errors).replace(/\n/g, '; ')}`);
  return fromConfig(r.value, label, over);
}

function fromConfig(cfg: ProfileConfig, label: string, over: Overrides): Subject {
  const arch = archFromConfig(cfg);
  if (!arch)
    throw new UsageError(`${label}: model.source "hf" has no shape here; pass the model's config.json instead`);
  return {
    label: cfg.label,
    arch,
    precision: over.precision ?? cfg.precision,
    batch: over.batch ?? cfg.workload.batch,
    seqLen: over.seqLen ?? cfg.workload.seqLen,
    newTokens: over.newTokens ?? cfg.workload.newTokens,
    stage: cfg.stage,
    peft: cfg.stage === 'finetune' ? cfg.peft : null,
    // The config as estimated: a file's workload with the flags that override it.
    config: {
      ...cfg,
      precision: over.precision ?? cfg.precision,
      workload: {
        ...cfg.workload,
        batch: over.batch ?? cfg.workload.batch,
        seqLen: over.seqLen ?? cfg.workload.seqLen,
        newTokens: over.newTokens ?? cfg.workload.newTokens,
      },
    },
  };
}

/** --preset with profile's flags: the one config they describe, checked as profile checks it. */
function fromFlags(values: Partial<Record<ModelFlag, string>>): Subject {
  const { base, axes } = modelSweepFromFlags(values);
  const many = (Object.entries(axes) as [string, unknown[] | undefined][]).filter(([, v]) => v && v.length > 1);
  if (many.length > 0)
    throw new UsageError(`estimate takes one value per flag; ${many.map(([k]) => k).join(', ')} has several`);
  const expanded = expandSweep(base, axes);
  if (!expanded.ok)
    throw new UsageError(expanded.problems.map((p) => formatFieldErrors(p.errors).replace(/\n/g, '; ')).join(' | '));
  return fromConfig(expanded.configs[0], '--preset', {});
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const billions = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : `${(n / 1e6).toFixed(1)} M`);
const gflop = (f: number | undefined): string => (f === undefined ? 'unknown' : `${(f / 1e9).toFixed(3)} GFLOP`);
const seconds = (s: number | null): string =>
  s === null ? 'unknown' : s >= 1 ? `${s.toFixed(3)} s` : `${(s * 1e3).toFixed(3)} ms`;

function table(s: Subject, gpu: GpuSpec | null, e: ModelEstimate): string {
  const rows: [string, string][] = [
    ['model', s.label],
    ['precision', s.precision],
    ['batch × seq-len', `${s.batch} × ${s.seqLen}`],
    ['params', billions(e.params)],
    ['active params', billions(e.activeParams)],
    ['weights', gib(e.weightBytes)],
    ['KV cache / token', `${e.kvBytesPerToken.toLocaleString('en-US')} B`],
    ['FLOPs / token', `${(e.flopsPerToken / 1e9).toFixed(2)} GFLOP`],
    ['prefill FLOPs', gflop(e.flops?.prefill)],
    [`decode FLOPs (${Math.max(0, s.newTokens - 1)} steps)`, gflop(e.flops?.decode)],
    [`train step FLOPs (${s.peft && s.peft.method !== 'full' ? s.peft.method : 'full'})`, gflop(e.flops?.trainStep)],
    ['GPU', gpu ? gpu.name : 'none (give --gpu for floors)'],
  ];
  if (gpu) {
    rows.push(
      ['prefill floor', seconds(e.floors.prefillS)],
      ['decode step floor', seconds(e.floors.decodePerTokenS)],
      ['decode floor (all steps)', seconds(e.floors.decodeS ?? null)],
      ['train step floor', seconds(e.floors.trainStepS)],
    );
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

export const estimateCommand: Subcommand = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(MODEL_FLAGS.map((f) => [f, { type: 'string' as const }])),
        gpu: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; ${USAGE}`);
  }
  const { positionals } = parsed;
  const values = parsed.values as Partial<Record<ModelFlag | 'gpu', string>> & { json?: boolean };

  let precision: Precision | undefined;
  if (values.precision !== undefined) {
    if (!(PRECISIONS as readonly string[]).includes(values.precision)) {
      throw new UsageError(
        `--precision ${JSON.stringify(values.precision)} is not allowed; use one of ${quoted(PRECISIONS)}`,
      );
    }
    precision = values.precision as Precision;
  }
  const batch = positiveInt('--batch', values.batch);
  const seqLen = positiveInt('--seq-len', values['seq-len']);
  const newTokens = positiveInt('--new-tokens', values['new-tokens']);
  let gpu: GpuSpec | null = null;
  if (values.gpu !== undefined) {
    gpu = findGpuByUserName(values.gpu);
    if (!gpu)
      throw new UsageError(
        `--gpu ${JSON.stringify(values.gpu)} is not in the catalogue; use one of ${quoted(GPU_NAMES)} or a device name such as "${GPUS[0].name}"`,
      );
  }

  if (positionals.length > 1) throw new UsageError(`give one CONFIG.json, not ${positionals.length}; ${USAGE}`);
  const file = positionals[0];
  if ((file === undefined) === (values.preset === undefined))
    throw new UsageError(`give either CONFIG.json or --preset (one of ${quoted(PRESET_NAMES)}); ${USAGE}`);

  let subject: Subject;
  if (values.preset !== undefined) {
    if (!PRESET_NAMES.includes(values.preset))
      throw new UsageError(
        `--preset ${JSON.stringify(values.preset)} is not a preset; use one of ${quoted(PRESET_NAMES)}`,
      );
    subject = fromFlags(values);
  } else {
    const misplaced = MODEL_FLAGS.filter((f) => values[f] !== undefined && !FILE_FLAGS.includes(f));
    if (misplaced.length > 0)
      throw new UsageError(
        `${misplaced.map((f) => `--${f}`).join(', ')} describe${misplaced.length === 1 ? 's' : ''} a preset's model; with ${file} edit the file or use --preset`,
      );
    const json = await loadJson(file as string, io);
    if (isHfConfig(json)) {
      const r = parseHfConfig(json);
      if (!r.ok) throw new UsageError(`${file}: ${formatFieldErrors(r.errors).replace(/\n/g, '; ')}`);
      subject = {
        label: `${file} (${r.value.modelType})`,
        arch: r.value.arch,
        // A checkpoint is profiled in its stored dtype unless told otherwise.
        precision: precision ?? r.value.dtype ?? 'bf16',
        batch: batch ?? DEFAULT_WORKLOAD.batch,
        seqLen: seqLen ?? DEFAULT_WORKLOAD.seqLen,
        newTokens: newTokens ?? DEFAULT_WORKLOAD.newTokens,
        stage: 'inference',
        peft: null,
        config: null,
      };
    } else {
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        throw new UsageError(`${file}: must be a JSON object (a ProfileConfig or a Hugging Face config.json)`);
      subject = fromProfileInput(json as ProfileConfigInput, file as string, { precision, batch, seqLen, newTokens });
    }
  }

  const est = estimateModel(subject.arch, {
    precision: subject.precision,
    batch: subject.batch,
    seqLen: subject.seqLen,
    newTokens: subject.newTokens,
    peft: subject.peft,
    gpu,
  });
  if (values.json) {
    io.out(
      JSON.stringify({
        ...est,
        model: subject.label,
        precision: subject.precision,
        batch: subject.batch,
        seqLen: subject.seqLen,
        newTokens: subject.newTokens,
        stage: subject.stage,
        peft: subject.peft,
        gpu: gpu ? gpu.name : null,
        config: subject.config,
      }) + '\n',
    );
  } else {
    io.out(table(subject, gpu, est));
  }
  return 0;
};
