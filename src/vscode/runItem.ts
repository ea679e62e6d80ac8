// What the Runs view shows for one run: live while this window runs it, else from its stored record.
// No `vscode` here (runsView.ts turns these into tree items).
import type { RunState } from '../core/assemble';
import type { RunRecord } from '../core/record';
import type { ActiveRun } from './runsModel';

export type RunIcon = 'loading~spin' | 'pass' | 'error' | 'circle-slash' | 'clock' | 'warning';

export interface RunItem {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: RunIcon;
  /** Context value for menus: "run.active" (cancel), "run.local" (reveal log), "run". */
  readonly contextValue: string;
}

/** "measure 3/5", "warmup 1/2", "starting". */
export function progressText(state: RunState | null): string {
  const p = state?.lastProgress;
  if (!p) return state?.hello ? 'started' : 'starting';
  return `${p.phase} ${p.step}/${p.total}`;
}

/** The tree item of a run: live while this window runs it, else from its record. */
export function runItem(record: RunRecord | undefined, active: ActiveRun | undefined): RunItem {
  if (active) {
    return {
      id: active.id,
      label: active.label,
      description: `${progressText(active.state)} · ${active.targetName}`,
      tooltip: `${active.id}\n${active.label}\nrunning on ${active.targetName}`,
      icon: 'loading~spin',
      contextValue: 'run.active',
    };
  }
  const r = record as RunRecord;
  const icon: RunIcon =
    r.status === 'completed'
      ? 'pass'
      : r.status === 'failed'
        ? 'error'
        : r.status === 'cancelled'
          ? 'circle-slash'
          : r.status === 'queued'
            ? 'clock'
            : 'warning';
  const when = r.createdAt.replace('T', ' ').slice(0, 16);
  const err = r.error ? `\n${r.error.kind}: ${r.error.message}` : '';
  // A "running" record no window is running was left by a closed window or a detached remote run.
  const status = r.status === 'running' || r.status === 'queued' ? `${r.status} (not in this window)` : r.status;
  return {
    id: r.id,
    label: r.config.label,
    description: `${status} · ${r.target.name} · ${when}`,
    tooltip: `${r.id}\n${r.config.label}\n${r.status} on ${r.target.kind} ${r.target.name}${err}`,
    icon,
    contextValue: r.target.kind === 'local' ? 'run.local' : 'run',
  };
}
