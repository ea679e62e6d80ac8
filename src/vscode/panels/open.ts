import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProfileConfig } from '../../core/config';
import { targetText } from '../../core/export';
import { targetChoices } from '../../views/launcherData';
import type { ModelSite as LauncherSite } from '../../detect/site';
import type { RunRecord } from '../../core/record';
import type { ModelSite } from '../../detect/site';
import type { Ctx } from '../ctx';
import { requireTrust } from '../trust';
import type { ResultsPanelEnv } from './base';
import { ComparePanel } from './comparePanel';
import { DashboardPanel } from './dashboardPanel';
import type { LauncherDeps } from './launcherController';
import { LauncherPanel } from './launcherPanel';
import { runIdsFromState } from './resultsControllers';
import type { SaveRequest } from './resultsControllers';
import { ResultsViewProvider } from './resultsView';
import { WorkspaceRuns } from './runSource';

// The webview panels' entry points: the dashboard, compare and launcher panels, the results view in
// the sidebar, and the serializers that restore dashboard and compare after a reload. Each panel kind
// has one panel, revealed and given new data when opened again.

/** Where the launcher was opened from (a CodeLens passes its file, line and detected site). */
export interface LauncherSeed {
  file?: string;
  line?: number;
  site?: ModelSite;
}

/** Runs a sweep's configs on a target ("local" or a name from `efficientllm.targets`); resolves when done. */
export type LaunchSweep = (configs: ProfileConfig[], targetSpec: string) => Promise<void>;

/** The detected model sites of the workspace (the detection cache of the last scan). */
export type SitesProvider = () => Promise<readonly ModelSite[]> | readonly ModelSite[];

// Set once during activation by the code that owns profiling and detection. Module state rather than
// a Ctx field because those helpers are wired after the panels and need no Ctx of ours to do it.
let launchHandler: LaunchSweep | undefined;
let sitesProvider: SitesProvider | undefined;

const NOT_WIRED =
  'Profiling is not wired into this build of the extension, so the launcher cannot start runs yet. The estimates above still hold.';
const UNTRUSTED =
  'This workspace is not trusted. Launching runs Python and remote commands; trust the workspace (Manage Workspace Trust) to launch. Estimates work meanwhile.';

/** The function Launch calls. Returns a disposable that unsets it. */
export function setLaunchHandler(fn: LaunchSweep | undefined): vscode.Disposable {
  launchHandler = fn;
  return new vscode.Disposable(() => {
    if (launchHandler === fn) launchHandler = undefined;
  });
}

/** Where the launcher gets detected sites from. Returns a disposable that unsets it. */
export function setSitesProvider(fn: SitesProvider | undefined): vscode.Disposable {
  sitesProvider = fn;
  return new vscode.Disposable(() => {
    if (sitesProvider === fn) sitesProvider = undefined;
  });
}

/** A site's file as a URI: absolute paths as they are, relative ones against the first workspace folder. */
function siteUri(file: string): vscode.Uri | undefined {
  if (path.isAbsolute(file)) return vscode.Uri.file(file);
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  return folder ? vscode.Uri.joinPath(folder.uri, ...file.split(/[\\/]/)) : undefined;
}

async function saveWithDialog(request: SaveRequest): Promise<string | null> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: request.title,
    defaultUri: folder ? vscode.Uri.joinPath(folder, request.suggestedName) : undefined,
    filters: request.filters,
    saveLabel: 'Save',
  });
  if (!uri) return null;
  await vscode.workspace.fs.writeFile(uri, request.bytes);
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/** A quick pick of runs (newest first) for Compare; undefined when dismissed. */
async function pickRuns(runs: readonly RunRecord[], preselected: readonly string[]): Promise<string[] | undefined> {
  const newest = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const picked = await vscode.window.showQuickPick(
    newest.map((r) => ({
      label: r.config.label,
      description: `${r.id} · ${r.status}`,
      detail: `${targetText(r.target)}${r.env.device ? ` · ${r.env.device.name}` : ''}`,
      picked: preselected.includes(r.id),
      id: r.id,
    })),
    {
      canPickMany: true,
      title: 'Compare runs',
      placeHolder: 'Pick two or more runs to compare',
      matchOnDescription: true,
    },
  );
  return picked?.map((p) => p.id);
}

/** The panels of one extension context: created on first use, disposed with the context. */
class Panels implements vscode.Disposable {
  readonly runs: WorkspaceRuns;
  readonly env: ResultsPanelEnv;
  registered = false;
  private dashboard: DashboardPanel | undefined;
  private compare: ComparePanel | undefined;
  private launcher: LauncherPanel | undefined;
  private resultsView: ResultsViewProvider | undefined;

  constructor(private readonly ctx: Ctx) {
    this.runs = new WorkspaceRuns(ctx.log);
    this.env = { extensionUri: ctx.extension.extensionUri, runs: this.runs, log: ctx.log };
  }

  register(): void {
    if (this.registered) return;
    this.registered = true;
    const { ctx } = this;
    ctx.register(
      vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.adoptDashboard(panel, runIdsFromState(state)),
      }),
    );
    ctx.register(
      vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const ids = runIdsFromState(state);
          // Nothing to compare without the runs it showed: close the empty tab.
          if (ids.length === 0) panel.dispose();
          else this.adoptCompare(panel, ids);
        },
      }),
    );
    this.resultsView = new ResultsViewProvider(this.env, (ids) => this.openDashboard(ids));
    ctx.register(vscode.window.registerWebviewViewProvider(ResultsViewProvider.viewId, this.resultsView));
  }

  private dashboardDeps(): ConstructorParameters<typeof DashboardPanel>[3] {
    return {
      save: saveWithDialog,
      openCompare: (ids) => this.openCompare(ids),
      selectRun: (id) => this.ctx.log.debug(`dashboard: selected run ${id}`),
    };
  }

  private adoptDashboard(panel: vscode.WebviewPanel, runIds: readonly string[]): void {
    const created = new DashboardPanel(panel, runIds, this.env, this.dashboardDeps(), () => {
      if (this.dashboard === created) this.dashboard = undefined;
    });
    this.dashboard = created;
  }

  private adoptCompare(panel: vscode.WebviewPanel, runIds: readonly string[]): void {
    const created = new ComparePanel(
      panel,
      runIds,
      this.env,
      { openDashboard: (ids) => this.openDashboard(ids) },
      () => {
        if (this.compare === created) this.compare = undefined;
      },
    );
    this.compare = created;
  }

  async openDashboard(runIds: readonly string[]): Promise<void> {
    if (this.dashboard && !this.dashboard.isDisposed) {
      this.dashboard.show(runIds);
      return;
    }
    const created = DashboardPanel.create(runIds, this.env, this.dashboardDeps(), () => {
      if (this.dashboard === created) this.dashboard = undefined;
    });
    this.dashboard = created;
  }

  async openCompare(runIds: readonly string[]): Promise<void> {
    let ids = [...new Set(runIds)];
    if (ids.length < 2) {
      const all = await this.runs.list();
      if (all.length < 2) {
        void vscode.window.showInformationMessage(
          `EfficientLLM: Compare needs two or more runs; this workspace has ${all.length}. Profile a sweep first.`,
        );
        return;
      }
      const picked = await pickRuns(all, ids);
      if (picked === undefined) return;
      if (picked.length < 2) {
        void vscode.window.showInformationMessage('EfficientLLM: pick two or more runs to compare.');
        return;
      }
      ids = picked;
    }
    if (this.compare && !this.compare.isDisposed) {
      this.compare.show(ids);
      return;
    }
    const created = ComparePanel.create(ids, this.env, { openDashboard: (x) => this.openDashboard(x) }, () => {
      if (this.compare === created) this.compare = undefined;
    });
    this.compare = created;
  }

  private launcherDeps(): LauncherDeps {
    const { ctx } = this;
    const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('efficientllm');
    return {
      sites: async (): Promise<readonly LauncherSite[]> => (sitesProvider ? await sitesProvider() : []),
      targets: () => targetChoices(settings().get<unknown>('targets')),
      defaultTarget: () => settings().get<string>('defaultTarget'),
      defaults: () => ctx.config.defaultSweep,
      sampleMs: () => ctx.config.sampleIntervalMs,
      launchBlocked: () => (!vscode.workspace.isTrusted ? UNTRUSTED : launchHandler === undefined ? NOT_WIRED : null),
      launch: async (configs, target) => {
        const fn = launchHandler;
        if (!fn) throw new Error(NOT_WIRED);
        if (!(await requireTrust('Launch a profiling sweep')))
          throw new Error('the workspace is not trusted; nothing was launched');
        await fn(configs, target);
      },
      openSite: async (site) => {
        const uri = siteUri(site.file);
        if (!uri) {
          void vscode.window.showWarningMessage(`EfficientLLM: cannot open ${site.file}: open its folder first.`);
          return;
        }
        const line = Math.max(0, site.line - 1);
        await vscode.window.showTextDocument(uri, {
          selection: new vscode.Range(line, 0, line, 0),
          viewColumn: vscode.ViewColumn.Beside,
          preview: true,
        });
      },
      displayPath: (file) => (path.isAbsolute(file) ? vscode.workspace.asRelativePath(file, false) : file),
    };
  }

  async openLauncher(seed: LauncherSeed | undefined): Promise<void> {
    if (this.launcher && !this.launcher.isDisposed) {
      this.launcher.show(seed);
      return;
    }
    const created = LauncherPanel.create(
      seed,
      this.ctx.extension.extensionUri,
      this.launcherDeps(),
      this.ctx.log,
      () => {
        if (this.launcher === created) this.launcher = undefined;
      },
    );
    this.launcher = created;
  }

  dispose(): void {
    this.dashboard?.dispose();
    this.compare?.dispose();
    this.launcher?.dispose();
    this.resultsView?.dispose();
    this.runs.dispose();
  }
}

const panelsByCtx = new WeakMap<Ctx, Panels>();

function panelsOf(ctx: Ctx): Panels {
  let panels = panelsByCtx.get(ctx);
  if (!panels) {
    panels = ctx.register(new Panels(ctx));
    panelsByCtx.set(ctx, panels);
  }
  return panels;
}

/** Serializers (dashboard and compare survive a reload) and the results view; call once from activate(). */
export function registerPanels(ctx: Ctx): void {
  panelsOf(ctx).register();
}

/** Shows the dashboard of `runIds` (empty: every run of the workspace). */
export function openDashboard(ctx: Ctx, runIds: string[]): Promise<void> {
  return panelsOf(ctx).openDashboard(runIds);
}

/** Compares `runIds`; with fewer than two, asks which runs to compare. */
export function openCompare(ctx: Ctx, runIds: string[]): Promise<void> {
  return panelsOf(ctx).openCompare(runIds);
}

/** Opens the launcher, its form seeded from `seed` (a site's model and techniques) and the settings. */
export function openLauncher(ctx: Ctx, seed?: LauncherSeed): Promise<void> {
  return panelsOf(ctx).openLauncher(seed);
}
