// What the Runs view, the status bar and the CodeLens know about runs: the stored records (read from
// the run store in the background) plus the runs this window is executing right now, with their live
// progress and the AbortController of their sweep. No `vscode` here; listeners are plain callbacks.
import type { RunState } from '../core/assemble';
import type { RunRecord } from '../core/record';
import type { StoreProblem } from '../run/store';
import type { TargetSpec } from '../run/targets';

export interface ActiveRun {
  readonly id: string;
  readonly label: string;
  readonly targetName: string;
  /** The sweep it belongs to: cancelling one run cancels its sweep (one signal per target execution). */
  readonly sweep: ActiveSweep;
  state: RunState | null;
}

export interface ActiveSweep {
  readonly id: number;
  readonly controller: AbortController;
  readonly target: TargetSpec;
  readonly startedAt: number;
  runIds: string[];
}

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

export class RunsModel {
  private records: RunRecord[] = [];
  private byId = new Map<string, RunRecord>();
  readonly active = new Map<string, ActiveRun>();
  private readonly sweeps = new Set<ActiveSweep>();
  private readonly listeners = new Set<() => void>();
  private nextSweep = 1;
  problems: StoreProblem[] = [];
  /** False until the store was read once (views show "loading" meanwhile). */
  loaded = false;

  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Newest first, as the store lists them. */
  get all(): readonly RunRecord[] {
    return this.records;
  }

  get recordsById(): ReadonlyMap<string, RunRecord> {
    return this.byId;
  }

  get(id: string): RunRecord | undefined {
    return this.byId.get(id);
  }

  setRecords(records: readonly RunRecord[], problems: StoreProblem[] = []): void {
    this.records = [...records];
    this.byId = new Map(records.map((r) => [r.id, r]));
    this.problems = problems;
    this.loaded = true;
    this.fire();
  }

  /** A record written by this window (queued or final): shown at once, before the watcher reloads. */
  upsert(record: RunRecord): void {
    const i = this.records.findIndex((r) => r.id === record.id);
    if (i >= 0) this.records[i] = record;
    else this.records.unshift(record);
    this.byId.set(record.id, record);
    this.fire();
  }

  startSweep(target: TargetSpec, controller: AbortController, now = Date.now()): ActiveSweep {
    const sweep: ActiveSweep = { id: this.nextSweep++, controller, target, startedAt: now, runIds: [] };
    this.sweeps.add(sweep);
    this.fire();
    return sweep;
  }

  addActive(sweep: ActiveSweep, id: string, label: string, targetName: string): void {
    sweep.runIds.push(id);
    this.active.set(id, { id, label, targetName, sweep, state: null });
    this.fire();
  }

  update(id: string, state: RunState): void {
    const run = this.active.get(id);
    if (!run) return;
    run.state = state;
    this.fire();
  }

  endRun(id: string): void {
    if (this.active.delete(id)) this.fire();
  }

  endSweep(sweep: ActiveSweep): void {
    for (const id of sweep.runIds) this.active.delete(id);
    this.sweeps.delete(sweep);
    this.fire();
  }

  /** Sweeps still executing in this window. */
  get activeSweeps(): readonly ActiveSweep[] {
    return [...this.sweeps];
  }

  /** Runs to list: the active ones not yet stored first, then every stored record. */
  items(): RunItem[] {
    const items: RunItem[] = [];
    for (const a of this.active.values()) if (!this.byId.has(a.id)) items.push(runItem(undefined, a));
    for (const r of this.records) items.push(runItem(r, this.active.get(r.id)));
    return items;
  }

  /** Cancels the sweep running `id`; false when no sweep of this window runs it. */
  cancel(id: string): boolean {
    const run = this.active.get(id);
    if (!run) return false;
    run.sweep.controller.abort();
    return true;
  }
}
