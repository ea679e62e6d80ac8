// The sbatch side of the Slurm target: validated job options and the batch script of one array job.
// Every option is a plain value checked here (no newline, no shell or #SBATCH syntax can get through),
// and every path in the script is single-quoted by quote.ts.
import type { SlurmJobOptions } from '../../core/targetSpec';
import { shQuote } from '../ssh/quote';

// The options' type lives beside TargetSpec in core, since a RunRecord keeps them for "Run again".
export type { SlurmJobOptions };

export class SlurmOptionError extends Error {
  constructor(
    message: string,
    /** The option at fault, so a caller can name it its own way (the CLI's flag, the editor's setting). */
    readonly field: keyof SlurmJobOptions | 'python' | null = null,
  ) {
    super(message);
    this.name = 'SlurmOptionError';
  }
}

const PLAIN = /^[A-Za-z0-9_.,:@%+=/-]+$/;
const NAME_LIKE = /^[A-Za-z0-9_.-]+$/;
const GRES = /^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2}(?:,[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2})*$/;
const TIME =
  /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;
const MEM = /^\d+[KMGT]?$/i;
/** Options the target sets itself; an extra line may not override them. */
const RESERVED = new Set([
  'array',
  'a',
  'output',
  'o',
  'error',
  'e',
  'input',
  'i',
  'parsable',
  'wrap',
  'chdir',
  'D',
  'export',
  'wait',
  'W',
  'test-only',
  'hold',
  'H',
  'uid',
  'gid',
]);

/** The command-line flag of each option, which the messages name. */
const FLAGS: Readonly<Record<keyof SlurmJobOptions, string>> = {
  partition: '--partition',
  account: '--account',
  gres: '--gres',
  timeLimit: '--time-limit',
  cpusPerTask: '--cpus-per-task',
  mem: '--mem',
  maxConcurrent: '--max-concurrent',
  jobName: 'job name',
  extra: '--sbatch-extra',
};

function plainValue(field: keyof SlurmJobOptions, value: string, pattern: RegExp, example: string): string {
  const flag = FLAGS[field];
  if (/[\r\n\0]/.test(value)) throw new SlurmOptionError(`${flag}: must be one line, without newlines`, field);
  const v = value.trim();
  if (v === '' || !pattern.test(v))
    throw new SlurmOptionError(`${flag}: "${value}" is not a plain value (e.g. ${example})`, field);
  return v;
}

/**
 * Checks one extra `#SBATCH` line and returns it in its canonical form ("--qos=high" or "-C h100").
 * Accepts it with or without the leading "#SBATCH ".
 */
export function validateExtraLine(line: string): string {
  if (/[\r\n\0]/.test(line))
    throw new SlurmOptionError('--sbatch-extra: one option per line, without newlines', 'extra');
  let text = line.trim().replace(/^#SBATCH\s+/, '');
  // "qos=high" (handy on a command line, where a value starting with "-" needs --sbatch-extra=--qos=high)
  if (/^[A-Za-z][A-Za-z0-9-]+(?:=|$)/.test(text)) text = `--${text}`;
  const long = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/.exec(text);
  const short = /^-([A-Za-z])(?:\s+(.+)|([^\s=].*))?$/.exec(text);
  let name: string;
  let value: string | undefined;
  if (long) {
    name = long[1];
    value = long[2];
  } else if (short) {
    name = short[1];
    value = short[2] ?? short[3];
  } else {
    throw new SlurmOptionError(
      `--sbatch-extra: "${line}" is not an sbatch option such as --qos=high or -C h100`,
      'extra',
    );
  }
  if (RESERVED.has(name))
    throw new SlurmOptionError(
      `--sbatch-extra: ${long ? '--' : '-'}${name} is set by the Slurm target itself and cannot be overridden`,
      'extra',
    );
  if (value !== undefined && !PLAIN.test(value)) {
    throw new SlurmOptionError(
      `--sbatch-extra: the value of "${line}" is not a plain value (letters, digits and _.,:@%+=/- only)`,
      'extra',
    );
  }
  if (value === undefined) return long ? `--${name}` : `-${name}`;
  return long ? `--${name}=${value}` : `-${name} ${value}`;
}

/** Checks every option; returns the `#SBATCH` option lines (without "#SBATCH "), in a fixed order. */
export function sbatchOptionLines(o: SlurmJobOptions): string[] {
  const lines: string[] = [];
  lines.push(`--job-name=${plainValue('jobName', o.jobName ?? 'efficientllm', NAME_LIKE, 'efficientllm')}`);
  if (o.partition !== undefined)
    lines.push(
      `--partition=${plainValue('partition', o.partition, /^[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*$/, 'gpu or gpu,debug')}`,
    );
  if (o.account !== undefined) lines.push(`--account=${plainValue('account', o.account, NAME_LIKE, 'myproject')}`);
  if (o.gres !== undefined) lines.push(`--gres=${plainValue('gres', o.gres, GRES, 'gpu:1 or gpu:h100:2')}`);
  if (o.timeLimit !== undefined)
    lines.push(`--time=${plainValue('timeLimit', o.timeLimit, TIME, '30, 1:30:00 or 1-00:00:00')}`);
  if (o.cpusPerTask !== undefined) {
    if (!Number.isSafeInteger(o.cpusPerTask) || o.cpusPerTask < 1)
      throw new SlurmOptionError(`--cpus-per-task: ${o.cpusPerTask} is not a whole number ≥ 1`, 'cpusPerTask');
    lines.push(`--cpus-per-task=${o.cpusPerTask}`);
  }
  if (o.mem !== undefined) lines.push(`--mem=${plainValue('mem', o.mem, MEM, '16G or 4000M')}`);
  for (const extra of o.extra ?? []) lines.push(validateExtraLine(extra));
  return lines;
}

/** `--array=0-(n-1)` with `%K` when a limit is set. */
export function arraySpec(count: number, maxConcurrent?: number): string {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new SlurmOptionError(`an array job needs at least one run (got ${count})`);
  let spec = count === 1 ? '0' : `0-${count - 1}`;
  if (maxConcurrent !== undefined) {
    if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1)
      throw new SlurmOptionError(`--max-concurrent: ${maxConcurrent} is not a whole number ≥ 1`, 'maxConcurrent');
    spec += `%${maxConcurrent}`;
  }
  return spec;
}

export interface BatchScriptInput {
  options: SlurmJobOptions;
  /** Run folders, one per array task, in task order. */
  runDirs: string[];
  /** The folder that holds the efficientllm_harness package (goes on PYTHONPATH). */
  harnessRoot: string;
  /** Interpreter on the compute nodes. */
  python: string;
}

/**
 * The batch script: `#SBATCH` lines, then array task $SLURM_ARRAY_TASK_ID picks its run folder and
 * runs the harness on it; events.jsonl, stderr.log and exit land in that folder on the shared
 * filesystem. The task's own Slurm id goes to `slurm-job` there, for people and for reattaching.
 */
export function batchScript(input: BatchScriptInput): string {
  if (input.runDirs.length === 0) throw new SlurmOptionError('no runs to submit');
  for (const p of [...input.runDirs, input.harnessRoot]) {
    if (!p.startsWith('/') || /[\r\n\0]/.test(p))
      throw new SlurmOptionError(`not an absolute one-line path: ${JSON.stringify(p)}`);
  }
  if (input.python === '' || /[\r\n\0]/.test(input.python))
    throw new SlurmOptionError('--python: must be a non-empty one-line path', 'python');
  const cases = input.runDirs.map((d, i) => `  ${i}) dir=${shQuote(d)} ;;`).join('\n');
  return `#!/bin/sh
${sbatchOptionLines(input.options)
  .map((l) => `#SBATCH ${l}`)
  .join('\n')}
# Written by EfficientLLM Profiler: one array task per run folder.
case "\${SLURM_ARRAY_TASK_ID:-}" in
${cases}
  *) echo "efficientllm: no run folder for array task '\${SLURM_ARRAY_TASK_ID:-}'" >&2; exit 2 ;;
esac
cd -- "$dir" || exit 2
printf '%s %s_%s\\n' "\${SLURM_JOB_ID:-}" "\${SLURM_ARRAY_JOB_ID:-}" "\${SLURM_ARRAY_TASK_ID:-}" > slurm-job
exec >> stderr.log 2>&1
echo "efficientllm: Slurm job \${SLURM_ARRAY_JOB_ID:-}_\${SLURM_ARRAY_TASK_ID:-} on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
PYTHONPATH=${shQuote(input.harnessRoot)}\${PYTHONPATH:+:$PYTHONPATH}
PYTHONUNBUFFERED=1
export PYTHONPATH PYTHONUNBUFFERED
exec ${shQuote(input.python)} -m efficientllm_harness --run-dir "$dir"
`;
}
