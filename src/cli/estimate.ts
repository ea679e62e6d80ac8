// `efficientllm estimate CONFIG.json | --preset NAME [--gpu NAME --precision P --seq-len N --batch N] [--json]`
// Instant analytic numbers for a model, no GPU needed: parameters, weight and KV bytes, FLOPs per
// token, and roofline floors on a catalogued GPU.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_WORKLOAD,
  PRECISIONS,
  PRESET_NAMES,
  formatFieldErrors,
  resolveConfig,
  type Precision,
  type ProfileConfigInput,
} from '../core/config';
import { archFromConfig, estimateModel, type ModelArch, type ModelEstimate } from '../core/estimate';
import { GPUS, GPU_NAMES, findGpuByUserName, type GpuSpec } from '../core/gpus';
import { isHfConfig, parseHfConfig } from '../core/hfConfig';
import { UsageError, type CliIo, type Subcommand } from './io';

const USAGE =
  'usage: efficientllm estimate CONFIG.json | --preset NAME [--gpu NAME] [--precision P] [--seq-len N] [--batch N] [--json]';

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

function fromProfileInput(
  input: ProfileConfigInput,
  label: string,
  over: { precision?: Precision; batch?: number; seqLen?: number },
): Subject {
  const r = resolveConfig(input);
  if (!r.ok) throw new UsageError(`${label}: ${formatFieldErrors(r.errors).replace(/\n/g, '; ')}`);
  const cfg = r.value;
  const arch = archFromConfig(cfg);
  if (!arch)
    throw new UsageError(`${label}: model.source "hf" has no shape here; pass the model's config.json instead`);
  return {
    label: cfg.label,
    arch,
    precision: over.precision ?? cfg.precision,
    batch: over.batch ?? cfg.workload.batch,
    seqLen: over.seqLen ?? cfg.workload.seqLen,
  };
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const billions = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : `${(n / 1e6).toFixed(1)} M`);
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
    ['GPU', gpu ? gpu.name : 'none (give --gpu for floors)'],
  ];
  if (gpu) {
    rows.push(
      ['prefill floor', seconds(e.floors.prefillS)],
      ['decode step floor', seconds(e.floors.decodePerTokenS)],
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
        preset: { type: 'string' },
        gpu: { type: 'string' },
        precision: { type: 'string' },
        'seq-len': { type: 'string' },
        batch: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; ${USAGE}`);
  }
  const { values, positionals } = parsed;

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
    subject = fromProfileInput({ model: { preset: values.preset } }, '--preset', { precision, batch, seqLen });
  } else {
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
      };
    } else {
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        throw new UsageError(`${file}: must be a JSON object (a ProfileConfig or a Hugging Face config.json)`);
      subject = fromProfileInput(json as ProfileConfigInput, file as string, { precision, batch, seqLen });
    }
  }

  const est = estimateModel(subject.arch, {
    precision: subject.precision,
    batch: subject.batch,
    seqLen: subject.seqLen,
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
        gpu: gpu ? gpu.name : null,
      }) + '\n',
    );
  } else {
    io.out(table(subject, gpu, est));
  }
  return 0;
};
