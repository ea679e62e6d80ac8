// `--target slurm:ALIAS` and the Slurm flags of `efficientllm profile`, turned into a SlurmTarget.
// Kept here so the CLI needs only a few lines; every problem is a TargetError with a one-line reason.
import type { RemoteHost } from '../remote/host';
import { LocalHost } from '../remote/localHost';
import { SlurmTarget, type SlurmStatusEvent } from '../slurmTarget';
import { TargetError } from '../target';
import { SlurmOptionError, type SlurmJobOptions } from './sbatch';

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

export interface SlurmTargetFromFlagsInput {
  /** What follows "slurm:" in --target. */
  alias: string;
  values: SlurmFlagValues;
  python: string;
  env: NodeJS.ProcessEnv;
  /** The login node for an SSH alias (an SshHost from the CLI's SSH flags); without it only slurm:local works. */
  sshHost?: (alias: string) => RemoteHost;
  onStatus?: (event: SlurmStatusEvent) => void;
}

/** `slurm:local` is a login node that is this machine; any other alias is an SSH alias of the login node. */
export function slurmTargetFromFlags(input: SlurmTargetFromFlagsInput): SlurmTarget {
  const { alias } = input;
  if (alias === '')
    throw new TargetError(
      '--target slurm:ALIAS needs the SSH alias of the login node (or slurm:local for this machine)',
    );
  let host: RemoteHost;
  if (alias === 'local') host = new LocalHost({ name: 'local', env: input.env });
  else if (input.sshHost) host = input.sshHost(alias);
  else
    throw new TargetError(
      `--target slurm:${alias}: a login node over SSH is not available in this build yet; run on the login node with --target slurm:local`,
    );
  try {
    return new SlurmTarget({
      host,
      python: input.python,
      sharedDir: input.values['shared-dir'] ?? input.env.EFFICIENTLLM_SLURM_SHARED_DIR,
      job: slurmJobOptions(input.values),
      onStatus: input.onStatus,
      ownsHost: true,
    });
  } catch (e) {
    if (e instanceof SlurmOptionError) throw new TargetError(e.message);
    throw e;
  }
}
