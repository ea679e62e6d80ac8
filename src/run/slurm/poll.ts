// One round trip to the login node per poll: for every open run folder, whether its exit file exists
// and how big events.jsonl is; then the job as sacct, squeue and scontrol see it. Over SSH this is one
// exec, however many runs the array holds.
import {
  mergeTaskStatuses,
  parseSacct,
  parseScontrol,
  parseSqueue,
  sacctUnavailable,
  type SlurmTaskStatus,
} from './state';

/** $1 job id, $2 sacct format ("" = skip sacct), then pairs INDEX DIR. Our own text; args come quoted. */
export const POLL_SCRIPT = `job=$1; fmt=$2; shift 2
while [ "$#" -ge 2 ]; do
  i=$1; d=$2; shift 2
  if [ -e "$d/exit" ]; then e=1; else e=0; fi
  s=0
  if [ -f "$d/events.jsonl" ]; then s=$(wc -c < "$d/events.jsonl" 2>/dev/null) || s=0; fi
  printf '@@run %s %s %s\\n' "$i" "$e" "$((s + 0))"
done
if [ -n "$fmt" ]; then
  out=$(sacct -j "$job" --parsable2 --noheader --format="$fmt" 2>&1); printf '@@sacct %s\\n%s\\n' "$?" "$out"
fi
out=$(squeue -j "$job" -h -r -o '%i|%T|%r' 2>&1); printf '@@squeue %s\\n%s\\n' "$?" "$out"
out=$(scontrol show job -o "$job" 2>&1); printf '@@scontrol %s\\n%s\\n' "$?" "$out"
`;

export const SACCT_FORMAT = 'JobID,State,ExitCode,Reason';
/** For a Slurm whose sacct does not know the Reason field. */
export const SACCT_FORMAT_NO_REASON = 'JobID,State,ExitCode';

export interface PollRun {
  index: number;
  exitExists: boolean;
  eventsBytes: number;
}

export interface PollResult {
  runs: Map<number, PollRun>;
  /** Merged per-task Slurm status (controller first, then accounting). */
  tasks: Map<number, SlurmTaskStatus>;
  /** sacct ran and answered (rc 0). */
  sacctOk: boolean;
  /** sacct said accounting is not there: stop asking. */
  sacctUnavailable: boolean;
  /** sacct rejected the Reason field: ask without it. */
  sacctNoReason: boolean;
  /** slurmctld answered scontrol (with the job, or with "Invalid job id"): an absent task is really gone. */
  controllerAnswered: boolean;
  /** Output of a command that failed, for diagnostics. */
  errors: string[];
}

export function parsePollOutput(text: string, jobId: string): PollResult {
  const runs = new Map<number, PollRun>();
  const sections = new Map<string, { rc: number; body: string }>();
  const lines = text.split('\n');
  let current: { name: string; rc: number; body: string[] } | null = null;
  const flush = (): void => {
    if (current) sections.set(current.name, { rc: current.rc, body: current.body.join('\n') });
  };
  for (const line of lines) {
    const run = /^@@run (\d+) ([01]) (\d+)$/.exec(line);
    if (run) {
      runs.set(Number(run[1]), { index: Number(run[1]), exitExists: run[2] === '1', eventsBytes: Number(run[3]) });
      continue;
    }
    const head = /^@@(sacct|squeue|scontrol) (\d+)$/.exec(line);
    if (head) {
      flush();
      current = { name: head[1], rc: Number(head[2]), body: [] };
      continue;
    }
    current?.body.push(line);
  }
  flush();
  const errors: string[] = [];
  const sacct = sections.get('sacct');
  const squeue = sections.get('squeue');
  const scontrol = sections.get('scontrol');
  const fromSacct = sacct && sacct.rc === 0 ? parseSacct(sacct.body, jobId) : [];
  const fromSqueue = squeue && squeue.rc === 0 ? parseSqueue(squeue.body, jobId) : [];
  // scontrol answers "Invalid job id specified" (rc 1) once the job is past MinJobAge.
  const fromScontrol = scontrol && scontrol.rc === 0 ? parseScontrol(scontrol.body, jobId) : [];
  for (const [name, s] of sections)
    if (s.rc !== 0) errors.push(`${name}: ${s.body.trim().split('\n').slice(-2).join(' ')}`);
  return {
    runs,
    tasks: mergeTaskStatuses(fromSacct, fromSqueue, fromScontrol),
    sacctOk: sacct !== undefined && sacct.rc === 0,
    sacctUnavailable: sacct !== undefined && sacct.rc !== 0 && sacctUnavailable(sacct.body),
    sacctNoReason: sacct !== undefined && sacct.rc !== 0 && /invalid field/i.test(sacct.body),
    controllerAnswered: scontrol !== undefined && (scontrol.rc === 0 || /invalid job id/i.test(scontrol.body)),
    errors,
  };
}
