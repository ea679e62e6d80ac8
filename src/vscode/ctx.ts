import * as vscode from 'vscode';
import { DetectionCache } from '../detect/detector';
import type { ModelSite } from '../detect/site';
import { Config } from './config';
import { createLog } from './log';
import { diskDeps, RunsModel, type RunStoreLike } from './runsModel';
import { diskFolders, watchRunStores } from './runsWatcher';
import { siteRefIn, SitesIndexFile, type SiteRef } from './sitesIndex';

/**
 * What every feature needs, built once in `activate()` and handed to each `register…(ctx)` and to the
 * feature classes (panels, launcher, profiler) by their constructors. Plain constructor injection: no
 * container, no globals. Nothing here reads a file while being built: the run store is read in the
 * background, the Python parser on first use.
 */
export class Ctx {
  readonly log: vscode.LogOutputChannel;
  readonly config: Config;
  /** The one detector cache: CodeLens and any scan share parsed statements. */
  readonly detection = new DetectionCache();
  /** The one run model: stored runs of every folder + the runs this window executes now. */
  readonly runs: RunsModel;
  /** Fired when a target test stored a new status (the Targets view listens). */
  readonly targetsChanged = new vscode.EventEmitter<void>();
  private sitesFile: SitesIndexFile | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.register(createLog());
    this.config = this.register(new Config((message) => this.log.warn(message)));
    this.register(this.targetsChanged);
    this.runs = new RunsModel(diskDeps(this.log), diskFolders());
    this.register(watchRunStores(this.runs));
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

  /** The folder whose `.efficientllm/` this window writes (runsModel.ts's rule); undefined without one. */
  get workspaceRoot(): string | undefined {
    return this.runs.home;
  }

  /** The store this window writes. */
  get store(): RunStoreLike | undefined {
    return this.runs.store;
  }

  /** `.efficientllm/sites.json` of the home folder. */
  get sites(): SitesIndexFile | undefined {
    const root = this.workspaceRoot;
    if (root === undefined) return undefined;
    if (this.sitesFile?.workspaceRoot !== root) this.sitesFile = new SitesIndexFile(root);
    return this.sitesFile;
  }

  /** The sites index key of a detected site; undefined outside the home folder. */
  siteRef(site: Pick<ModelSite, 'file' | 'line' | 'name'>): SiteRef | undefined {
    return this.workspaceRoot === undefined ? undefined : siteRefIn(this.workspaceRoot, site);
  }

  /** The store, or a message telling the user to open a folder (runs are saved in the workspace). */
  requireStore(): RunStoreLike {
    const store = this.store;
    if (!store) throw new Error(vscode.l10n.t('open a folder first: runs are saved in its .efficientllm/runs/ folder'));
    return store;
  }
}
