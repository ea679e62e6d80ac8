// Where and how runs execute, as a tagged union like every other config (STYLE.md): what the CLI's
// `--target` and the editor's `efficientllm.targets` both become, and what a RunRecord keeps so that
// "Run again" reruns on exactly that target. Plain values only: no secret ever lives here (passphrases
// stay in ssh-agent or the editor's SecretStorage).

export interface SlurmJobOptions {
  partition?: string;
  account?: string;
  /** e.g. "gpu:1", "gpu:h100:2". */
  gres?: string;
  /** sbatch --time: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS". */
  timeLimit?: string;
  cpusPerTask?: number;
  /** sbatch --mem, e.g. "16G", "4000M", "0". */
  mem?: string;
  /** At most this many array tasks at once (the %K of --array). */
  maxConcurrent?: number;
  /** Job name; "efficientllm" by default. */
  jobName?: string;
  /** More `#SBATCH` options, one per entry: "--qos=high", "--constraint=h100", "-C h100", or "qos=high". */
  extra?: string[];
}

export type TargetSpec =
  | { kind: 'local'; python: string; isolate?: boolean; cacheDir?: string }
  | { kind: 'ssh'; hosts: string[]; python: string; isolate?: boolean }
  | { kind: 'slurm'; alias: string; python: string; job?: SlurmJobOptions; sharedDir?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'boolean' | 'number'): boolean => v === undefined || typeof v === type;

const JOB_FIELDS: Readonly<Record<keyof SlurmJobOptions, 'string' | 'number' | 'strings'>> = {
  partition: 'string',
  account: 'string',
  gres: 'string',
  timeLimit: 'string',
  cpusPerTask: 'number',
  mem: 'string',
  maxConcurrent: 'number',
  jobName: 'string',
  extra: 'strings',
};

function isJobOptions(v: unknown): v is SlurmJobOptions {
  if (!isObject(v)) return false;
  return Object.entries(v).every(([k, x]) => {
    const want = (JOB_FIELDS as Record<string, string | undefined>)[k];
    if (want === 'strings') return Array.isArray(x) && x.every((e) => typeof e === 'string');
    return want !== undefined && typeof x === want;
  });
}

/** Whether a stored value is a TargetSpec this version can rerun (records before it have none). */
export function isTargetSpec(v: unknown): v is TargetSpec {
  if (!isObject(v) || typeof v.python !== 'string') return false;
  switch (v.kind) {
    case 'local':
      return optional(v.isolate, 'boolean') && optional(v.cacheDir, 'string');
    case 'ssh':
      return (
        Array.isArray(v.hosts) &&
        v.hosts.length > 0 &&
        v.hosts.every((h) => typeof h === 'string') &&
        optional(v.isolate, 'boolean')
      );
    case 'slurm':
      return (
        typeof v.alias === 'string' && (v.job === undefined || isJobOptions(v.job)) && optional(v.sharedDir, 'string')
      );
    default:
      return false;
  }
}
