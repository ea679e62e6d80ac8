// A Target runs harness processes somewhere (this machine, an SSH host, a Slurm cluster) and reports
// each run's events as they arrive. The orchestrator (profile.ts) turns them into RunRecords.
import type { RunState } from '../core/assemble';
import type { ProfileConfig } from '../core/config';
import type { RunStatus, TargetKind } from '../core/record';

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

/** Thrown before anything runs when the target cannot run the harness; the message says what to do. */
export class TargetError extends Error {}

export interface Target {
  readonly kind: TargetKind;
  readonly name: string;
  /** Checks that the harness can start at all (interpreter, torch); throws TargetError otherwise. */
  prepare(): Promise<void>;
  /** Runs every planned run; resolves when each has ended. Aborting the signal cancels the rest. */
  execute(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void>;
}
