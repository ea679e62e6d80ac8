import * as vscode from "vscode";
import { panelOptions, WebviewHost, webviewHtml, webviewOptions } from "./base";
import type { DispatchLog } from "./dispatch";
import { DashboardController } from "./resultsControllers";
import type { DashboardDeps } from "./resultsControllers";
import type { WorkspaceRuns } from "./runSource";

export interface ResultsPanelEnv {
  extensionUri: vscode.Uri;
  runs: WorkspaceRuns;
  log: DispatchLog;
}

const TITLE = "EfficientLLM: Results";

/** The results dashboard of a set of runs; one panel, reused for each new set. */
export class DashboardPanel extends WebviewHost<"dashboard"> {
  static readonly viewType = "efficientllm.dashboard";
  readonly controller: DashboardController;

  /** Adopts `panel` (new, or restored by the serializer after a reload). */
  constructor(
    readonly panel: vscode.WebviewPanel,
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<DashboardDeps, "runs">,
    onDispose: () => void,
  ) {
    super();
    this.register(panel);
    panel.webview.options = webviewOptions(env.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(env.extensionUri, "media", "icon.svg");
    this.controller = new DashboardController(runIds, { ...deps, runs: env.runs }, (m) => panel.webview.postMessage(m), env.log);
    this.connect(panel.webview, this.controller.dispatcher);
    // Hidden without a retained context, the page is torn down; it says `ready` again when shown.
    this.register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.controller.dispatcher.pageGone();
    }));
    this.register(env.runs.onDidChange(() => void this.controller.push()));
    this.register(panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    }));
    panel.webview.html = webviewHtml(panel.webview, env.extensionUri, "dashboard", TITLE);
  }

  static create(runIds: readonly string[], env: ResultsPanelEnv, deps: Omit<DashboardDeps, "runs">, onDispose: () => void): DashboardPanel {
    const panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, TITLE, vscode.ViewColumn.Active, panelOptions(env.extensionUri));
    return new DashboardPanel(panel, runIds, env, deps, onDispose);
  }

  show(runIds: readonly string[]): void {
    void this.controller.setRunIds(runIds);
    this.panel.reveal();
  }
}
