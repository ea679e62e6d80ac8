// `efficientllm profile`: sweep flags (or --plan FILE) → runs on a target → RunRecords in the store.
// Every config is validated before anything is written, so bad input leaves the store untouched.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunState } from '../core/assemble';
import {
  editDistance,
  formatFieldErrors,
  type MoeSpec,
  type ProfileConfig,
  type ProfileConfigInput,
} from '../core/config';
import { expandSweep, KINDS_WITH_KV_HEADS, parsePlan, type SweepAxes, type SweepPlan } from '../core/sweep';
import { renderSummary } from '../views/table';
import { analyticFor } from '../core/analytic';
import { withScalingEfficiency } from '../core/scaling';
import { givenSlurmFlags, SLURM_CLI_OPTIONS, slurmJobOptions } from '../run/slurm/fromFlags';
import { profile } from '../run/profile';
import { newRunId, RunStore } from '../run/store';
import { TargetError, type PlannedRun, type Target } from '../run/target';
import { closeTarget, createTarget, parseTargetText, type TargetSpec } from '../run/targets';
import { targetDeviceMemory } from '../run/deviceMemory';
import { FitError } from '../core/fit';
import { UsageError, type CliIo, type Subcommand } from './io';
import { SSH_CLI_OPTIONS, sshCliOptions } from './preflight';

const OPTIONS = {
  plan: { type: 'string' },
  preset: { type: 'string' },
  attention: { type: 'string' },
  'kv-heads': { type: 'string' },
  stage: { type: 'string' },
  precision: { type: 'string' },
  batch: { type: 'string' },
  'seq-len': { type: 'string' },
  'new-tokens': { type: 'string' },
  steps: { type: 'string' },
  warmup: { type: 'string' },
  moe: { type: 'string' },
  peft: { type: 'string' },
  'peft-rank': { type: 'string' },
  'peft-alpha': { type: 'string' },
  'peft-targets': { type: 'string' },
  'mla-kv-rank': { type: 'string' },
  'mla-q-rank': { type: 'string' },
  'mla-rope-dim': { type: 'string' },
  'nsa-block': { type: 'string' },
  'nsa-selected': { type: 'string' },
  'nsa-window': { type: 'string' },
  'sample-ms': { type: 'string' },
  seed: { type: 'string' },
  seeds: { type: 'string' },
  nproc: { type: 'string' },
  parallel: { type: 'string' },
  'train-tokens': { type: 'string' },
  'eval-every': { type: 'string' },
  data: { type: 'string' },
  target: { type: 'string', default: 'local' },
  python: { type: 'string' },
  isolate: { type: 'boolean', default: false },
  /** Skip the preflight by estimate (core/fit.ts) and start configs that look too large anyway. */
  'no-fit-check': { type: 'boolean', default: false },
  store: { type: 'string' },
  json: { type: 'boolean', default: false },
  ...SLURM_CLI_OPTIONS,
  ...SSH_CLI_OPTIONS,
} as const;

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);

function intList(flag: string, v: string | undefined): number[] | undefined {
  const items = list(v);
  if (!items) return undefined;
  return items.map((s) => {
    if (!/^\d+$/.test(s))
      throw new UsageError(`--${flag}: "${s}" is not a whole number; give a comma-separated list such as 1,2,4`);
    return Number(s);
  });
}

function intFlag(flag: string, v: string | undefined): number | undefined {
  const values = intList(flag, v);
  if (values && values.length !== 1) throw new UsageError(`--${flag} takes one number, not a list`);
  return values?.[0];
}

/** `--train-tokens 150k`: a whole number of tokens, with an optional k (×1,000) or M (×1,000,000). */
export function tokenBudget(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.trim());
  const scaled = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : NaN;
  const n = Math.abs(scaled - Math.round(scaled)) < 1e-6 ? Math.round(scaled) : scaled; // 1.1k is 1100
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag}: "${v}" is not a token count; give a whole number such as 150000, 150k or 2M`);
  return n;
}

/** `--moe none,4x2,8x2+1`: EXPERTSxTOPK[+SHARED], or none for a dense FFN. */
function moeList(v: string | undefined): (MoeSpec | null)[] | undefined {
  return list(v)?.map((item) => {
    if (item === 'none' || item === 'dense') return null;
    const m = /^(\d+)x(\d+)(?:\+(\d+))?$/.exec(item);
    if (!m) throw new UsageError(`--moe: "${item}" is not EXPERTSxTOPK[+SHARED] (e.g. 4x2, 8x2+1) or none`);
    return { experts: Number(m[1]), topK: Number(m[2]), shared: Number(m[3] ?? 0) };
  });
}

/** A plan file holds one config input, a list of them, or {base, axes}; every field is checked (parsePlan). */
async function configsFromPlan(path: string): Promise<SweepPlan[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--plan ${path}: ${(e as Error).message}`);
  }
  const plan = parsePlan(parsed);
  if (!plan.ok) throw new UsageError(`--plan ${path}: ${formatFieldErrors(plan.errors).replace(/\n/g, '; ')}`);
  return plan.sweeps;
}

/** A one-line progress bar on stderr, redrawn in place (TTY only). */
function progressPrinter(
  io: CliIo,
  total: number,
): { update(run: PlannedRun, state: RunState): void; done(label: string): void; finish(): void } {
  let finished = 0;
  const width = 24;
  const draw = (label: string, fraction: number): void => {
    const overall = (finished + fraction) / total;
    const filled = Math.round(overall * width);
    io.err(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${total} ${label}`);
  };
  return {
    update(run, state) {
      const p = state.lastProgress;
      const fraction = p && p.phase === 'measure' && p.total > 0 ? p.step / p.total : 0;
      draw(`${run.config.label}${p ? ` · ${p.phase} ${p.step}/${p.total}` : ''}`, fraction);
    },
    done(label) {
      finished += 1;
      draw(label, 0);
    },
    finish() {
      io.err('\r\x1b[2K');
    },
  };
}

/** parseArgs, with an unknown flag named beside the nearest known one (--seqlen → --seq-len). */
function parseFlags(
  argv: string[],
): ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'] {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const code = e instanceof TypeError && 'code' in e ? String(e.code) : '';
    const flag = /'(--?[^']+)'/.exec((e as Error).message)?.[1];
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || flag === undefined) throw e;
    const name = flag.replace(/^-+/, '').split('=')[0];
    const nearest = Object.keys(OPTIONS)
      .map((k) => ({ k, d: editDistance(k.replace(/-/g, ''), name.replace(/-/g, '')) }))
      .sort((a, b) => a.d - b.d)[0];
    const hint =
      nearest && nearest.d <= Math.max(1, Math.floor(name.length / 3)) ? `; did you mean --${nearest.k}?` : '';
    throw new UsageError(`${flag}: unknown flag${hint}`);
  }
}

/** Sweep flags that a plan file replaces: given with --plan they would be ignored, so they are refused. */
export const SWEEP_FLAGS = [
  'preset',
  'attention',
  'kv-heads',
  'stage',
  'precision',
  'batch',
  'seq-len',
  'new-tokens',
  'moe',
  'peft',
  'peft-rank',
  'peft-alpha',
  'peft-targets',
  'mla-kv-rank',
  'mla-q-rank',
  'mla-rope-dim',
  'nsa-block',
  'nsa-selected',
  'nsa-window',
  'seeds',
  'nproc',
  'parallel',
] as const;

/** The flags that give a model and its workload: `profile` sweeps them, `estimate` takes one value of each. */
export type ModelFlag = (typeof SWEEP_FLAGS)[number];

/**
 * The model and workload flags as a sweep (base config + axes), checked the same way for `profile`
 * and `estimate`: --peft needs --stage finetune, --kv-heads a kind that has a free KV-head count.
 */
export function modelSweepFromFlags(values: Partial<Record<ModelFlag, string>>): {
  base: ProfileConfigInput;
  axes: SweepAxes;
} {
  const axes: SweepAxes = {
    preset: list(values.preset),
    stage: list(values.stage),
    attention: list(values.attention),
    kvHeads: intList('kv-heads', values['kv-heads']),
    precision: list(values.precision),
    batch: intList('batch', values.batch),
    seqLen: intList('seq-len', values['seq-len']),
    newTokens: intList('new-tokens', values['new-tokens']),
    moe: moeList(values.moe),
    peft: list(values.peft),
  };
  if (axes.peft && !(axes.stage ?? []).includes('finetune')) {
    throw new UsageError('--peft applies to --stage finetune; add --stage finetune');
  }
  if (
    axes.kvHeads &&
    axes.attention &&
    !axes.attention.some((k) => (KINDS_WITH_KV_HEADS as readonly string[]).includes(k))
  ) {
    throw new UsageError(
      `--kv-heads applies to --attention ${KINDS_WITH_KV_HEADS.join(' or ')}, and none of ${axes.attention.join(',')} uses it`,
    );
  }
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const mla = defined({
    kvRank: intFlag('mla-kv-rank', values['mla-kv-rank']),
    qRank: intFlag('mla-q-rank', values['mla-q-rank']),
    ropeDim: intFlag('mla-rope-dim', values['mla-rope-dim']),
  });
  const nsa = defined({
    block: intFlag('nsa-block', values['nsa-block']),
    selected: intFlag('nsa-selected', values['nsa-selected']),
    window: intFlag('nsa-window', values['nsa-window']),
  });
  const peftOptions = defined({
    rank: intFlag('peft-rank', values['peft-rank']),
    alpha: intFlag('peft-alpha', values['peft-alpha']),
    targets: list(values['peft-targets']),
  });
  const base: ProfileConfigInput = {
    model: { preset: 'tiny' },
    attention: { mla, nsa },
    workload: {},
    ...(Object.keys(peftOptions).length > 0 ? { peft: peftOptions } : {}),
  };
  return { base, axes };
}

export const profileCommand: Subcommand = async (argv, io) => {
  const values = parseFlags(argv);
  if (values.plan !== undefined) {
    const ignored = SWEEP_FLAGS.filter((f) => values[f] !== undefined).map((f) => `--${f}`);
    if (ignored.length > 0)
      throw new UsageError(
        `${ignored.join(', ')} ${ignored.length === 1 ? 'does' : 'do'} not apply with --plan; put ${ignored.length === 1 ? 'it' : 'them'} in the plan file or drop --plan`,
      );
  }
  const { base, axes: modelAxes } = modelSweepFromFlags(values);
  const axes: SweepAxes = {
    ...modelAxes,
    seeds: intList('seeds', values.seeds),
    nproc: intList('nproc', values.nproc),
    parallel: list(values.parallel),
  };
  if (axes.seeds && values.seed !== undefined) throw new UsageError('give --seed or --seeds, not both');
  const steps = intFlag('steps', values.steps);
  const warmup = intFlag('warmup', values.warmup);
  const sampleMs = intFlag('sample-ms', values['sample-ms']);
  const seed = intFlag('seed', values.seed);
  const trainTokens = tokenBudget('train-tokens', values['train-tokens']);
  const evalEvery = tokenBudget('eval-every', values['eval-every']);
  if (trainTokens === undefined && (values.data !== undefined || evalEvery !== undefined))
    throw new UsageError(
      `${values.data !== undefined ? '--data' : '--eval-every'} applies with --train-tokens N; add it`,
    );
  const overrides = (b: ProfileConfigInput): ProfileConfigInput => ({
    ...b,
    ...(trainTokens !== undefined ? { trainTokens } : {}),
    ...(evalEvery !== undefined ? { evalEvery } : {}),
    ...(values.data !== undefined ? { data: values.data } : {}),
    workload: { ...b.workload, ...(steps !== undefined ? { steps } : {}), ...(warmup !== undefined ? { warmup } : {}) },
    ...(sampleMs !== undefined ? { sampleMs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  });

  const sweeps = values.plan ? await configsFromPlan(resolve(io.cwd, values.plan)) : [{ base, axes }];
  const configs: ProfileConfig[] = [];
  for (const sweep of sweeps) {
    const expanded = expandSweep(overrides(sweep.base), values.plan ? { ...sweep.axes } : sweep.axes);
    if (!expanded.ok) {
      const lines = expanded.problems.map(
        (p) =>
          `${p.index < 0 ? '' : `config ${p.index + 1} (${p.label}): `}${formatFieldErrors(p.errors).replace(/\n/g, '; ')}`,
      );
      throw new UsageError(lines.join(' | '));
    }
    configs.push(...expanded.configs);
  }

  const python = values.python ?? io.env.EFFICIENTLLM_PYTHON ?? 'python3';
  if (!values.target.startsWith('slurm:')) {
    const slurmOnly = givenSlurmFlags(values);
    if (slurmOnly.length > 0)
      throw new UsageError(
        `${slurmOnly.join(', ')} ${slurmOnly.length === 1 ? 'applies' : 'apply'} to --target slurm:ALIAS only`,
      );
  }
  let target: Target;
  let spec: TargetSpec;
  try {
    spec = parseTargetText(values.target, python, values.isolate);
    // Over SSH the local EFFICIENTLLM_PYTHON names a path on this machine, not on the host: only --python counts.
    if (spec.kind === 'ssh' || (spec.kind === 'slurm' && spec.alias !== 'local'))
      spec.python = values.python ?? 'python3';
    if (spec.kind === 'slurm') {
      spec.job = slurmJobOptions(values);
      if (values['shared-dir'] !== undefined) spec.sharedDir = values['shared-dir'];
    }
    const ssh = sshCliOptions(values, io, (p) => resolve(io.cwd, p));
    target = createTarget(spec, { env: io.env, ssh, onSlurmStatus: (e) => io.err(`${e.message}\n`) });
  } catch (e) {
    throw e instanceof TargetError ? new UsageError(e.message) : e;
  }
  const store = new RunStore(values.store ? resolve(io.cwd, values.store) : resolve(io.cwd, '.efficientllm', 'runs'));

  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const bar = io.isTTY && !values.json ? progressPrinter(io, configs.length) : null;
  try {
    const measured = await profile({
      configs,
      target,
      store,
      analytic: analyticFor,
      newId: () => newRunId(new Date()),
      signal: controller.signal,
      onUpdate: (run, state) => bar?.update(run, state),
      ...(values['no-fit-check']
        ? {}
        : {
            fit: {
              memory: () => targetDeviceMemory(spec, io.env),
              log: (line: string) => io.err(`${line}\n`),
              override: 'pass --no-fit-check',
            },
          }),
      onRecord: (r) => {
        bar?.done(r.config.label);
        if (!bar && !values.json)
          io.err(`${r.status.padEnd(9)} ${r.id} ${r.config.label}${r.error ? `: ${r.error.message}` : ''}\n`);
      },
    });
    bar?.finish();
    // Data-parallel runs against the sweep's 1-process run of the same config; those it changes are stored again.
    const records = withScalingEfficiency(measured);
    for (const [i, r] of records.entries()) if (r !== measured[i]) await store.save(r);
    if (values.json) {
      io.out(JSON.stringify({ runs: records }, null, 2) + '\n');
    } else {
      io.out(renderSummary(records) + '\n');
      for (const r of records.filter((x) => x.error)) {
        io.out(`\n${r.id} ${r.status}: ${r.error?.kind}: ${r.error?.message}\n`);
        const stderr = r.error?.stderrTail.trim();
        if (stderr)
          io.out(
            stderr
              .split('\n')
              .slice(-8)
              .map((l) => `  | ${l}`)
              .join('\n') + '\n',
          );
      }
    }
    return records.every((r) => r.status === 'completed') ? 0 : 1;
  } catch (e) {
    bar?.finish();
    if (e instanceof TargetError || e instanceof FitError) throw new UsageError(e.message);
    throw e;
  } finally {
    await closeTarget(target);
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
  }
};
