// The one run model of the window: the stored records of every workspace folder plus the runs this
// window executes now (live progress, and the AbortController of their sweep). Built once in
// activate() (ctx.ts) and handed to the Runs view, the status bar, the CodeLens, the Recommendations
// view and every webview panel; none of them reads the store itself.
//
// Where the store is (the one rule, used everywhere): this window writes runs, and the sites index,
// to `.efficientllm/` of the FIRST workspace folder on disk (`homeFolder`); it reads and lists the
// runs of EVERY folder on disk, so a multi-root workspace shows a teammate's committed runs too.
//
// Reads: each folder is listed once at start, then again only when a file watcher reports a change
// there that this window did not write (a save by the CLI, another window, a `git pull`). A burst of
// events (a save is a temp file and a rename; a sweep is many saves) settles into one read. A write
// from this window updates the model in memory and costs no read: the watcher's event for it is
// recognised by the file's fingerprint (mtime and size) taken right after the write.
//
// No `vscode` here (runsWatcher.ts feeds it the watcher events); listeners are plain callbacks.
import { stat } from 'node:fs/promises';
import type { RunState } from '../core/assemble';
import type { RunRecord } from '../core/record';
import { RunStore, type RunList, type StoreProblem } from '../run/store';
import type { TargetSpec } from '../run/targets';
import { runItem, type RunItem } from './runItem';

/** The part of RunStore (src/run/store.ts) the model uses; the unit tests count its reads through it. */
export interface RunStoreLike {
  readonly dir: string;
  fileOf(id: string): string;
  list(): Promise<RunList>;
  save(record: RunRecord): Promise<string>;
  delete(id: string): Promise<void>;
}

export interface RunsModelDeps {
  /** The store of a workspace folder (RunStore.forWorkspace). */
  storeOf(folder: string): RunStoreLike;
  /** A file's mtime and size, or null when it does not exist: tells this window's writes from others'. */
  fingerprint(file: string): Promise<string | null>;
  log: { warn(message: string): void; error(message: string): void };
  /** How long a burst of watcher events settles before the folder is read again. */
  settleMs?: number;
}

/** The model's I/O on disk: RunStore per folder, and a stat for telling this window's writes from others'. */
export function diskDeps(log: RunsModelDeps['log']): RunsModelDeps {
  return {
    storeOf: (folder) => RunStore.forWorkspace(folder),
    fingerprint: async (file) => {
      try {
        const s = await stat(file);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return null;
      }
    },
    log,
  };
}

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

/** The folder whose `.efficientllm/` this window writes: the first workspace folder on disk. */
export function homeFolder(folders: readonly string[]): string | undefined {
  return folders[0];
}

/** Newest first; ties by id (the store's order). */
function newestFirst(a: RunRecord, b: RunRecord): number {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** A stored record with the live state of its run laid over it: status, device and samples so far. */
export function liveRecord(record: RunRecord, state: RunState | null): RunRecord {
  if (!state || (state.hello === null && state.samples.length === 0 && state.lastProgress === null)) return record;
  const device = state.hello?.device;
  return {
    ...record,
    status: 'running',
    env: device ? { ...record.env, device: { name: device.name, memoryBytes: device.memoryBytes } } : record.env,
    samples: state.samples.map((s) => ({
      t: s.t,
      memoryBytes: s.memoryBytes,
      utilization: s.utilization,
      powerW: s.powerW,
    })),
  };
}

interface FolderState {
  readonly folder: string;
  readonly store: RunStoreLike;
  records: RunRecord[];
  problems: StoreProblem[];
  reading: Promise<void> | null;
  readAgain: boolean;
  /** This window's saves (record) and deletes (null) while a read is in flight, laid over its result. */
  writesDuringRead: Map<string, RunRecord | null> | null;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const NO_DEPS: RunsModelDeps = {
  storeOf: () => {
    throw new Error('open a folder first: runs are saved in its .efficientllm/runs/ folder');
  },
  fingerprint: async () => null,
  log: { warn: () => undefined, error: () => undefined },
};

export class RunsModel {
  private readonly deps: RunsModelDeps;
  private folders: FolderState[] = [];
  private merged: RunRecord[] = [];
  private byId = new Map<string, RunRecord>();
  /** Files this window wrote (or deleted), with the fingerprint they had right after. */
  private readonly ownWrites = new Map<string, Promise<string | null>>();
  readonly active = new Map<string, ActiveRun>();
  private readonly sweeps = new Set<ActiveSweep>();
  private readonly listeners = new Set<() => void>();
  private nextSweep = 1;
  private firstLoad: Promise<void> | null = null;
  /** False until every folder was read once (views show "loading" meanwhile). */
  loaded = false;

  constructor(deps: RunsModelDeps = NO_DEPS, folders: readonly string[] = []) {
    this.deps = deps;
    this.setFolders(folders);
  }

  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }

  // ---- folders and reads ----

  /** The workspace folders on disk, in order (the first is home); new ones are read, removed ones dropped. */
  setFolders(folders: readonly string[]): void {
    const kept = new Map(this.folders.map((f) => [f.folder, f]));
    const next: FolderState[] = [];
    for (const folder of [...new Set(folders)]) {
      const existing = kept.get(folder);
      if (existing) {
        next.push(existing);
        kept.delete(folder);
        continue;
      }
      const state: FolderState = {
        folder,
        store: this.deps.storeOf(folder),
        records: [],
        problems: [],
        reading: null,
        readAgain: false,
        writesDuringRead: null,
        timer: undefined,
      };
      next.push(state);
      if (this.firstLoad !== null) void this.read(state);
    }
    for (const gone of kept.values()) if (gone.timer !== undefined) clearTimeout(gone.timer);
    this.folders = next;
    if (kept.size > 0) this.merge();
  }

  /** The folder this window writes to (see the rule at the top), or undefined without one. */
  get home(): string | undefined {
    return homeFolder(this.folders.map((f) => f.folder));
  }

  /** The store this window writes, or undefined without a folder on disk. */
  get store(): RunStoreLike | undefined {
    return this.folders[0]?.store;
  }

  /** Reads every folder now (the first call at start-up; "Refresh" later). */
  reload(): Promise<void> {
    const all = Promise.all(this.folders.map((f) => this.read(f))).then(() => {
      if (!this.loaded) {
        this.loaded = true;
        this.fire();
      }
    });
    this.firstLoad ??= all;
    return all;
  }

  /** Resolves once every folder was read once (starting that read if nobody did). */
  whenLoaded(): Promise<void> {
    return this.loaded ? Promise.resolve() : (this.firstLoad ?? this.reload());
  }

  /** Reads one folder; calls that arrive while a read is in flight coalesce into one more read. */
  private read(f: FolderState): Promise<void> {
    if (f.reading) {
      f.readAgain = true;
      return f.reading;
    }
    f.reading = (async () => {
      do {
        f.readAgain = false;
        f.writesDuringRead = new Map();
        try {
          const { runs, problems } = await f.store.list();
          const records = new Map(runs.map((r) => [r.id, r]));
          for (const [id, r] of f.writesDuringRead) {
            if (r === null) records.delete(id);
            else records.set(id, r);
          }
          f.records = [...records.values()];
          for (const p of problems) this.deps.log.warn(`${p.file}: ${p.message}`);
          f.problems = problems;
        } catch (error) {
          this.deps.log.error(
            `reading the run store ${f.store.dir} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        } finally {
          f.writesDuringRead = null;
        }
        if (this.folders.includes(f)) this.merge();
      } while (f.readAgain);
    })().finally(() => {
      f.reading = null;
    });
    return f.reading;
  }

  /**
   * A watcher saw `file` (a `<runId>.json` in some folder's store) created, changed or deleted. This
   * window's own writes are recognised and cost nothing; anything else re-reads that folder once the
   * burst settles.
   */
  async fileChanged(file: string): Promise<void> {
    const f = this.folders.find((x) => file.startsWith(x.store.dir));
    if (!f) return;
    const mine = this.ownWrites.get(file);
    if (mine !== undefined) {
      const [wrote, now] = await Promise.all([mine, this.deps.fingerprint(file)]);
      if (wrote === now) return;
      this.ownWrites.delete(file);
    }
    if (f.timer !== undefined) clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      f.timer = undefined;
      void this.read(f);
    }, this.deps.settleMs ?? 200);
  }

  /** Stores `record` in the home folder's store and shows it at once; the watcher's echo is ignored. */
  async save(record: RunRecord): Promise<void> {
    const f = this.folders[0];
    if (!f) throw new Error('open a folder first: runs are saved in its .efficientllm/runs/ folder');
    const file = f.store.fileOf(record.id);
    const written = f.store.save(record).then(() => this.deps.fingerprint(file));
    this.ownWrites.set(
      file,
      written.catch(() => null),
    );
    await written;
    f.writesDuringRead?.set(record.id, record);
    const i = f.records.findIndex((r) => r.id === record.id);
    if (i >= 0) f.records[i] = record;
    else f.records.push(record);
    this.merge();
  }

  /** Deletes stored runs (from whichever folder holds each); the watcher's echo is ignored. */
  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const f = this.folders.find((x) => x.records.some((r) => r.id === id));
      if (!f) continue;
      const file = f.store.fileOf(id);
      this.ownWrites.set(file, Promise.resolve(null));
      await f.store.delete(id);
      f.writesDuringRead?.set(id, null);
      f.records = f.records.filter((r) => r.id !== id);
    }
    this.merge();
  }

  private merge(): void {
    const byId = new Map<string, RunRecord>();
    for (const f of this.folders) for (const r of f.records) if (!byId.has(r.id)) byId.set(r.id, r);
    this.byId = byId;
    this.merged = [...byId.values()].sort(newestFirst);
    this.fire();
  }

  // ---- what views and panels read ----

  /** Every stored run, newest first. */
  get all(): readonly RunRecord[] {
    return this.merged;
  }

  get recordsById(): ReadonlyMap<string, RunRecord> {
    return this.byId;
  }

  get(id: string): RunRecord | undefined {
    return this.byId.get(id);
  }

  get problems(): readonly StoreProblem[] {
    return this.folders.flatMap((f) => f.problems);
  }

  /**
   * The panels' run source: every stored run, those running in this window with their live status and
   * samples so far. Waits for the first read; never reads the store itself.
   */
  async list(): Promise<RunRecord[]> {
    await this.whenLoaded();
    return this.merged.map((r) => liveRecord(r, this.active.get(r.id)?.state ?? null));
  }

  // ---- the runs this window executes ----

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
    for (const r of this.merged) items.push(runItem(r, this.active.get(r.id)));
    return items;
  }

  /** Cancels the sweep running `id`; false when no sweep of this window runs it. */
  cancel(id: string): boolean {
    const run = this.active.get(id);
    if (!run) return false;
    run.sweep.controller.abort();
    return true;
  }

  dispose(): void {
    for (const f of this.folders) if (f.timer !== undefined) clearTimeout(f.timer);
    this.listeners.clear();
  }
}
