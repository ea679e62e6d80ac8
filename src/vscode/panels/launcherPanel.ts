import * as vscode from "vscode";
import type { LauncherSeedInput } from "../../core/launcherData";
import { panelOptions, WebviewHost, webviewHtml } from "./base";
import type { DispatchLog } from "./dispatch";
import { LauncherController } from "./launcherController";
import type { LauncherDeps } from "./launcherController";

const TITLE = "EfficientLLM: Profile";

/** The launcher; one panel, re-seeded when opened again from another site. */
export class LauncherPanel extends WebviewHost<"launcher"> {
  static readonly viewType = "efficientllm.launcher";
  readonly controller: LauncherController;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    seed: LauncherSeedInput | undefined,
    extensionUri: vscode.Uri,
    deps: LauncherDeps,
    log: DispatchLog,
    onDispose: () => void,
  ) {
    super();
    this.register(panel);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, "media", "icon.svg");
    this.controller = new LauncherController(seed, deps, (m) => panel.webview.postMessage(m), log);
    this.connect(panel.webview, this.controller.dispatcher);
    this.register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.controller.dispatcher.pageGone();
    }));
    // New targets or defaults in the settings, or trust granted: the page gets a fresh init (its
    // form is kept: same revision).
    this.register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("efficientllm")) void this.controller.push();
    }));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.controller.push()));
    this.register(panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    }));
    panel.webview.html = webviewHtml(panel.webview, extensionUri, "launcher", TITLE);
  }

  static create(seed: LauncherSeedInput | undefined, extensionUri: vscode.Uri, deps: LauncherDeps, log: DispatchLog, onDispose: () => void): LauncherPanel {
    const panel = vscode.window.createWebviewPanel(LauncherPanel.viewType, TITLE, vscode.ViewColumn.Active, panelOptions(extensionUri));
    return new LauncherPanel(panel, seed, extensionUri, deps, log, onDispose);
  }

  show(seed: LauncherSeedInput | undefined): void {
    void this.controller.setSeed(seed);
    this.panel.reveal();
  }
}
