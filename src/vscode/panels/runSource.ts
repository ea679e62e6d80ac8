import * as vscode from 'vscode';
import type { RunRecord } from '../../core/record';
import { RunStore } from '../../run/store';
import type { DispatchLog } from './dispatch';
import type { RunSource } from './resultsControllers';

/** The glob of stored runs inside a workspace folder (src/run/store.ts STORE_SUBDIR, with "/"). */
const RUNS_GLOB = '.efficientllm/runs/*.json';
/** A save is a temp file and a rename, a sweep many saves: one refresh per burst. */
const SETTLE_MS = 200;

/**
 * The runs of every workspace folder on disk (`<folder>/.efficientllm/runs`), read through
 * RunStore, with an event when any of them changes (a FileSystemWatcher per folder). Reads are
 * shared until the next change, so several panels refreshing at once read the store once.
 */
export class WorkspaceRuns implements RunSource, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fired (debounced) after runs were added, rewritten or deleted. */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private watchers: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cache: Promise<RunRecord[]> | undefined;
  /** Store problems already logged (each once, not on every refresh). */
  private readonly reported = new Set<string>();

  constructor(private readonly log: DispatchLog) {
    this.watch();
    this.subscriptions.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.invalidate();
      }),
    );
  }

  private folders(): readonly vscode.WorkspaceFolder[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  }

  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const folder of this.folders()) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, RUNS_GLOB));
      const onEvent = (): void => this.invalidate();
      this.watchers.push(
        watcher,
        watcher.onDidCreate(onEvent),
        watcher.onDidChange(onEvent),
        watcher.onDidDelete(onEvent),
      );
    }
  }

  /** Drops the cached read now and tells listeners once the burst settles. */
  invalidate(): void {
    this.cache = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire();
    }, SETTLE_MS);
  }

  list(): Promise<RunRecord[]> {
    this.cache ??= this.read().catch((e: unknown) => {
      this.cache = undefined;
      throw e;
    });
    return this.cache;
  }

  private async read(): Promise<RunRecord[]> {
    const byId = new Map<string, RunRecord>();
    for (const folder of this.folders()) {
      const store = RunStore.forWorkspace(folder.uri.fsPath);
      const { runs, problems } = await store.list();
      for (const p of problems) {
        const key = `${p.file}: ${p.message}`;
        if (!this.reported.has(key)) {
          this.reported.add(key);
          this.log.warn(`run store: ${key}`);
        }
      }
      for (const r of runs) if (!byId.has(r.id)) byId.set(r.id, r);
    }
    return [...byId.values()];
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const w of this.watchers) w.dispose();
    for (const s of this.subscriptions) s.dispose();
    this.watchers = [];
  }
}
