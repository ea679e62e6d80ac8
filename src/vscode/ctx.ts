import * as vscode from 'vscode';
import { DetectionCache } from '../detect/detector';
import { RunStore } from '../run/store';
import { Config } from './config';
import { createLog } from './log';
import { RunsModel } from './runsModel';
import { SitesIndexFile } from './sitesIndex';

/**
 * Everything a feature needs, built once in `activate()` and handed to each `register…(ctx)`.
 * Plain constructor injection: no container, no globals. Nothing here reads a file while being
 * built: the run store is read in the background (`reloadRuns`), the Python parser on first use.
 */
export class Ctx {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  /** The one detector cache: CodeLens and any scan share parsed statements. */
  readonly detection = new DetectionCache();
  /** Stored runs + the runs this window executes now. */
  readonly runs = new RunsModel();
  /** The first workspace folder on disk, where `.efficientllm/` lives; undefined without one. */
  readonly workspaceRoot: string | undefined;
  readonly store: RunStore | undefined;
  readonly sites: SitesIndexFile | undefined;
  /** Fired when a target test stored a new status (the Targets view listens). */
  readonly targetsChanged = new vscode.EventEmitter<void>();
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.register(createLog());
    this.register(this.targetsChanged);
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    this.workspaceRoot = folder?.uri.fsPath;
    this.store = this.workspaceRoot !== undefined ? RunStore.forWorkspace(this.workspaceRoot) : undefined;
    this.sites = this.workspaceRoot !== undefined ? new SitesIndexFile(this.workspaceRoot) : undefined;
  }

  /** The one owner of disposables: everything ends up in `context.subscriptions`. */
  register<T extends vscode.Disposable>(disposable: T): T {
    this.extension.subscriptions.push(disposable);
    return disposable;
  }

  get version(): string {
    const packageJson: unknown = this.extension.extension.packageJSON;
    if (typeof packageJson === 'object' && packageJson !== null && 'version' in packageJson) {
      return String(packageJson.version);
    }
    return 'unknown';
  }

  /** The store, or a message telling the user to open a folder (runs are saved in the workspace). */
  requireStore(): RunStore {
    if (!this.store)
      throw new Error(vscode.l10n.t('open a folder first: runs are saved in its .efficientllm/runs/ folder'));
    return this.store;
  }

  /**
   * Re-reads the run store into `runs`. Calls that arrive while a read is in flight coalesce into one
   * more read, so a burst of watcher events costs at most two.
   */
  reloadRuns(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const store = this.store;
    if (!store) {
      this.runs.setRecords([]);
      return Promise.resolve();
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const { runs, problems } = await store.list();
          this.runs.setRecords(runs, problems);
          for (const p of problems) this.log.warn(`${p.file}: ${p.message}`);
        } catch (error) {
          this.log.error(
            `reading the run store ${store.dir} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }
}
