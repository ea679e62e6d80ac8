// A Target runs harness processes somewhere (this machine, an SSH host, a Slurm cluster) and reports
// each run's events as they arrive. The orchestrator (profile.ts) turns them into RunRecords.
import type { RunState } from '../core/assemble';
import type { ProfileConfig } from '../core/config';
import type { RunStatus, RunTarget, TargetKind } from '../core/record';
import type { TargetSpec } from '../core/targetSpec';

export interface PlannedRun {
  id: string;
  createdAt: string;
  config: ProfileConfig;
}

/** How a run ended when its events hold neither a result nor an error. */
export interface RunEnding {
  status: Exclude<RunStatus, 'queued' | 'running' | 'completed'>;
  message: string;
}

export interface RunOutcome {
  id: string;
  state: RunState;
  ending: RunEnding | null;
  stderrTail: string;
}

export interface TargetHooks {
  /** New events for a run (progress, samples); called often, must be cheap. */
  onUpdate(id: string, state: RunState): void;
  /** A run ended (result, error, crash or cancel); called once per run, as soon as it is known. */
  onRunEnd(outcome: RunOutcome): Promise<void>;
}

/** The interpreter at fault, for callers that say where it is set (the CLI's --python, a setting in the editor). */
export interface PythonProblem {
  path: string;
  problem: 'not-found' | 'no-torch' | 'broken';
  /** The host it was looked for on; null for this machine. */
  host: string | null;
  /** What the interpreter or the shell said, or ''. */
  detail: string;
}

/**
 * Thrown before anything runs when the target cannot run the harness. The message is the command
 * line's (it names flags such as --python); `field` and `python` say what is at fault in terms of the
 * TargetSpec, so the editor can name its setting instead.
 */
export class TargetError extends Error {
  /** The TargetSpec field at fault ("python", "sharedDir", "job.partition", …); null when none is. */
  readonly field: string | null;
  readonly python: PythonProblem | null;

  constructor(message: string, at: { field?: string; python?: PythonProblem } = {}) {
    super(message);
    this.name = 'TargetError';
    this.python = at.python ?? null;
    this.field = at.field ?? (at.python ? 'python' : null);
  }
}

/** The one phrasing of an interpreter that cannot run the harness, in the command line's terms. */
export function pythonError(p: PythonProblem): TargetError {
  const on = p.host === null ? '' : ` on ${p.host}`;
  const which = `Python interpreter "${p.path}"`;
  switch (p.problem) {
    case 'not-found':
      return new TargetError(
        p.host === null
          ? `${which} could not start (${p.detail}); pass --python PATH or set EFFICIENTLLM_PYTHON`
          : `${which} was not found${on}; pass --python with the path of a Python that has torch there, e.g. --python /usr/bin/python3`,
        { python: p },
      );
    case 'no-torch':
      return new TargetError(
        `${which}${on} has no torch; install PyTorch for it (pip install torch, or Debian: apt-get install python3-torch libopenblas0-pthread, then --python /usr/bin/python3), or pass --python with one that has it`,
        { python: p },
      );
    case 'broken':
      return new TargetError(`${which}${on} failed: ${p.detail}`, { python: p });
  }
}

export interface Target {
  readonly kind: TargetKind;
  readonly name: string;
  /** What it was built from, kept in each RunRecord so "Run again" reruns on exactly this target. */
  readonly spec?: TargetSpec;
  /** Checks that the harness can start at all (interpreter, torch); throws TargetError otherwise. */
  prepare(): Promise<void>;
  /** Runs every planned run; resolves when each has ended. Aborting the signal cancels the rest. */
  execute(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void>;
}

/** A target as its RunRecords name it: kind, name and, where known, the spec to rerun it exactly. */
export function recordTargetOf(target: Pick<Target, 'kind' | 'name' | 'spec'>): RunTarget {
  return target.spec
    ? { kind: target.kind, name: target.name, spec: target.spec }
    : { kind: target.kind, name: target.name };
}
