// The Slurm flags of `efficientllm profile` (--partition, --gres, …) turned into SlurmJobOptions; the
// target itself is built by targets.ts createTarget. Every problem is a TargetError with a one-line reason.
import { TargetError } from '../target';
import type { SlurmJobOptions } from './sbatch';

/** The CLI option table entries for the Slurm flags (node:util parseArgs format). */
export const SLURM_CLI_OPTIONS = {
  partition: { type: 'string' },
  account: { type: 'string' },
  gres: { type: 'string' },
  'time-limit': { type: 'string' },
  'max-concurrent': { type: 'string' },
  'sbatch-extra': { type: 'string', multiple: true },
  'cpus-per-task': { type: 'string' },
  mem: { type: 'string' },
  'shared-dir': { type: 'string' },
} as const;

export interface SlurmFlagValues {
  partition?: string;
  account?: string;
  gres?: string;
  'time-limit'?: string;
  'max-concurrent'?: string;
  'sbatch-extra'?: string[];
  'cpus-per-task'?: string;
  mem?: string;
  'shared-dir'?: string;
}

const FLAG_NAMES = Object.keys(SLURM_CLI_OPTIONS) as (keyof SlurmFlagValues)[];

/** The Slurm flags that were given (to refuse them for a target that is not Slurm). */
export function givenSlurmFlags(values: SlurmFlagValues): string[] {
  return FLAG_NAMES.filter((k) => values[k] !== undefined).map((k) => `--${k}`);
}

function wholeNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new TargetError(`--${flag}: "${v}" is not a whole number ≥ 1`);
  return Number(v);
}

export function slurmJobOptions(values: SlurmFlagValues): SlurmJobOptions {
  const o: SlurmJobOptions = {};
  if (values.partition !== undefined) o.partition = values.partition;
  if (values.account !== undefined) o.account = values.account;
  if (values.gres !== undefined) o.gres = values.gres;
  if (values['time-limit'] !== undefined) o.timeLimit = values['time-limit'];
  if (values.mem !== undefined) o.mem = values.mem;
  const maxConcurrent = wholeNumber('max-concurrent', values['max-concurrent']);
  if (maxConcurrent !== undefined) o.maxConcurrent = maxConcurrent;
  const cpus = wholeNumber('cpus-per-task', values['cpus-per-task']);
  if (cpus !== undefined) o.cpusPerTask = cpus;
  if (values['sbatch-extra'] !== undefined) o.extra = [...values['sbatch-extra']];
  return o;
}
