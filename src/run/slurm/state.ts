// Slurm job states, and the text of `sacct`, `squeue` and `scontrol show job` parsed into one state per
// array task. Pure: the target feeds it command output, the unit tests feed it captured text.

/** What a Slurm state means for one of our runs. */
export type SlurmPhase = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface SlurmStateInfo {
  /** The canonical long name, e.g. TIMEOUT (an abbreviation such as TO is expanded). */
  name: string;
  phase: SlurmPhase;
  /** Terminal: Slurm will not run this task again by itself. */
  terminal: boolean;
  /** One line for people. */
  describe: string;
}

interface StateDef {
  phase: SlurmPhase;
  terminal: boolean;
  describe: string;
  short: string;
}

// Job states of Slurm (squeue(1) "JOB STATE CODES", sacct(1) "JOB STATE CODES").
const STATES: Record<string, StateDef> = {
  PENDING: { phase: 'pending', terminal: false, short: 'PD', describe: 'waiting for resources' },
  CONFIGURING: { phase: 'pending', terminal: false, short: 'CF', describe: 'nodes are being configured' },
  REQUEUED: { phase: 'pending', terminal: false, short: 'RQ', describe: 'requeued' },
  REQUEUE_HOLD: { phase: 'pending', terminal: false, short: 'RH', describe: 'requeued and held' },
  REQUEUE_FED: { phase: 'pending', terminal: false, short: 'RF', describe: 'requeued by the federation' },
  RESV_DEL_HOLD: { phase: 'pending', terminal: false, short: 'RD', describe: 'held (its reservation was deleted)' },
  RESIZING: { phase: 'pending', terminal: false, short: 'RS', describe: 'being resized' },
  RUNNING: { phase: 'running', terminal: false, short: 'R', describe: 'running' },
  COMPLETING: { phase: 'running', terminal: false, short: 'CG', describe: 'completing' },
  SIGNALING: { phase: 'running', terminal: false, short: 'SI', describe: 'being signalled' },
  STAGE_OUT: { phase: 'running', terminal: false, short: 'SO', describe: 'staging out' },
  SUSPENDED: { phase: 'running', terminal: false, short: 'S', describe: 'suspended' },
  STOPPED: { phase: 'running', terminal: false, short: 'ST', describe: 'stopped' },
  COMPLETED: { phase: 'completed', terminal: true, short: 'CD', describe: 'completed' },
  FAILED: { phase: 'failed', terminal: true, short: 'F', describe: 'failed (non-zero exit code or other failure)' },
  CANCELLED: { phase: 'cancelled', terminal: true, short: 'CA', describe: 'cancelled' },
  TIMEOUT: { phase: 'failed', terminal: true, short: 'TO', describe: 'killed at its time limit' },
  OUT_OF_MEMORY: { phase: 'failed', terminal: true, short: 'OOM', describe: 'killed for exceeding its memory limit' },
  NODE_FAIL: { phase: 'failed', terminal: true, short: 'NF', describe: 'its node failed' },
  PREEMPTED: { phase: 'failed', terminal: true, short: 'PR', describe: 'preempted by another job' },
  BOOT_FAIL: { phase: 'failed', terminal: true, short: 'BF', describe: 'its node failed to boot' },
  DEADLINE: { phase: 'failed', terminal: true, short: 'DL', describe: 'not started before its deadline' },
  REVOKED: {
    phase: 'cancelled',
    terminal: true,
    short: 'RV',
    describe: 'revoked (a sibling job of the federation ran it)',
  },
  SPECIAL_EXIT: { phase: 'failed', terminal: true, short: 'SE', describe: 'ended with a special exit state' },
};

const BY_SHORT = new Map(Object.entries(STATES).map(([name, def]) => [def.short, name]));

/** Every long state name this module knows. */
export const SLURM_STATE_NAMES: readonly string[] = Object.keys(STATES);

/**
 * Maps a state as Slurm prints it ("RUNNING", "CANCELLED by 1001", "CA", "OUT_OF_MEMORY", "PENDING+")
 * to what it means for a run. An unknown name is treated as still active (never as an ending).
 */
export function mapSlurmState(text: string): SlurmStateInfo {
  const word =
    text
      .trim()
      .split(/\s+/)[0]
      ?.replace(/[+*]+$/, '')
      .toUpperCase() ?? '';
  const name = STATES[word] ? word : (BY_SHORT.get(word) ?? word);
  const def = STATES[name];
  if (!def)
    return {
      name: name || 'UNKNOWN',
      phase: 'running',
      terminal: false,
      describe: `in Slurm state ${name || '(empty)'}`,
    };
  return { name, phase: def.phase, terminal: def.terminal, describe: def.describe };
}

/** One array task as Slurm reports it. */
export interface SlurmTaskStatus {
  task: number;
  /** The state text as printed ("CANCELLED by 1001"). */
  raw: string;
  state: SlurmStateInfo;
  reason: string | null;
  /** "exit:signal", when the source gives it. */
  exitCode: string | null;
  source: 'sacct' | 'squeue' | 'scontrol';
}

/**
 * Task ids of an array expression: "3", "0-4", "1-7:2", "0,2,5-6", with an optional "%N" throttle and
 * optional brackets ("[1-2%1]"). Null when it is not one.
 */
export function expandTaskIds(expr: string): number[] | null {
  const body = expr.trim().replace(/^\[/, '').replace(/\]$/, '').replace(/%\d+$/, '');
  if (body === '') return null;
  const ids: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from || step < 1 || to - from > 1_000_000) return null;
    for (let i = from; i <= to; i += step) ids.push(i);
  }
  return ids;
}

/** "123_4" or "123_[1-3%2]" of job 123 → task ids; null for other jobs, steps ("123_4.batch") and noise. */
function tasksOfJobId(id: string, jobId: string): number[] | null {
  const text = id.trim();
  if (!text.startsWith(`${jobId}_`)) return null;
  const rest = text.slice(jobId.length + 1);
  if (rest.includes('.')) return null; // a job step
  return expandTaskIds(rest);
}

function nullIfNone(s: string | undefined): string | null {
  const t = (s ?? '').trim();
  return t === '' || t === 'None' || t === '(null)' ? null : t;
}

/** The `|`-separated lines of `text` about job `jobId`, one row per task (a range gives several). */
function taskRows(text: string, jobId: string): { task: number; fields: string[] }[] {
  const rows: { task: number; fields: string[] }[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split('|');
    if (fields.length < 2) continue;
    for (const task of tasksOfJobId(fields[0], jobId) ?? []) rows.push({ task, fields });
  }
  return rows;
}

/** `sacct -j JOB --parsable2 --noheader --format=JobID,State,ExitCode,Reason` */
export function parseSacct(text: string, jobId: string): SlurmTaskStatus[] {
  return taskRows(text, jobId).map(({ task, fields: f }) => ({
    task,
    raw: f[1].trim(),
    state: mapSlurmState(f[1]),
    exitCode: nullIfNone(f[2]),
    reason: nullIfNone(f[3]),
    source: 'sacct',
  }));
}

/** `squeue -j JOB -h -r -o '%i|%T|%r'` (the brackets of an unexpanded pending range are handled too). */
export function parseSqueue(text: string, jobId: string): SlurmTaskStatus[] {
  return taskRows(text, jobId).map(({ task, fields: f }) => ({
    task,
    raw: f[1].trim(),
    state: mapSlurmState(f[1]),
    reason: nullIfNone(f[2]),
    exitCode: null,
    source: 'squeue',
  }));
}

/** `key=value` fields of one `scontrol show job -o` record (values never hold spaces except the last fields we do not read). */
function scontrolFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=(\S*)/g)) {
    if (!fields.has(m[1])) fields.set(m[1], m[2]);
  }
  return fields;
}

/**
 * `scontrol show job JOB` (one record per line with -o, or the multi-line form separated by blank
 * lines). Only records whose ArrayJobId is JOB count; pending tasks come as one record with a range.
 */
export function parseScontrol(text: string, jobId: string): SlurmTaskStatus[] {
  const oneLine = /^JobId=.*JobState=/m.test(text);
  const records = oneLine ? text.split('\n') : text.split(/\n\s*\n/).map((r) => r.replace(/\n/g, ' '));
  const out: SlurmTaskStatus[] = [];
  for (const record of records) {
    if (!/\bJobId=/.test(record)) continue;
    const f = scontrolFields(record);
    const arrayJob = f.get('ArrayJobId');
    const taskExpr = f.get('ArrayTaskId');
    const state = f.get('JobState');
    if (arrayJob !== jobId || taskExpr === undefined || state === undefined) continue;
    const tasks = expandTaskIds(taskExpr);
    if (!tasks) continue;
    for (const task of tasks) {
      out.push({
        task,
        raw: state,
        state: mapSlurmState(state),
        reason: nullIfNone(f.get('Reason')),
        exitCode: nullIfNone(f.get('ExitCode')),
        source: 'scontrol',
      });
    }
  }
  return out;
}

/** `sbatch --parsable` prints "JOBID" or "JOBID;CLUSTER". */
export function parseSbatchParsable(stdout: string): { jobId: string; cluster: string | null } | null {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  const m = /^(\d+)(?:;(\S+))?$/.exec(last);
  if (!m) return null;
  return { jobId: m[1], cluster: m[2] ?? null };
}

/** True when sacct's answer means accounting is not there to ask (so stop asking). */
export function sacctUnavailable(stderr: string): boolean {
  return /accounting storage is disabled|accounting storage is not configured/i.test(stderr);
}

/**
 * Merges the three sources into one status per task: what the controller says now (scontrol, then
 * squeue) wins over accounting (sacct), which lags behind and is only needed once the controller has
 * forgotten the job (MinJobAge).
 */
export function mergeTaskStatuses(...sources: SlurmTaskStatus[][]): Map<number, SlurmTaskStatus> {
  const rank = { scontrol: 3, squeue: 2, sacct: 1 } as const;
  const merged = new Map<number, SlurmTaskStatus>();
  for (const list of sources) {
    for (const s of list) {
      const have = merged.get(s.task);
      if (!have || rank[s.source] > rank[have.source]) merged.set(s.task, s);
    }
  }
  return merged;
}
