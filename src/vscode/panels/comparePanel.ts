import * as vscode from "vscode";
import { panelOptions, WebviewHost, webviewHtml, webviewOptions } from "./base";
import type { ResultsPanelEnv } from "./dashboardPanel";
import { CompareController } from "./resultsControllers";
import type { CompareDeps } from "./resultsControllers";

const TITLE = "EfficientLLM: Compare";

/** Two or more runs side by side; one panel, reused for each new set. */
export class ComparePanel extends WebviewHost<"compare"> {
  static readonly viewType = "efficientllm.compare";
  readonly controller: CompareController;

  constructor(
    readonly panel: vscode.WebviewPanel,
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<CompareDeps, "runs">,
    onDispose: () => void,
  ) {
    super();
    this.register(panel);
    panel.webview.options = webviewOptions(env.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(env.extensionUri, "media", "icon.svg");
    this.controller = new CompareController(runIds, { ...deps, runs: env.runs }, (m) => panel.webview.postMessage(m), env.log);
    this.connect(panel.webview, this.controller.dispatcher);
    this.register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.controller.dispatcher.pageGone();
    }));
    this.register(env.runs.onDidChange(() => void this.controller.push()));
    this.register(panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    }));
    panel.webview.html = webviewHtml(panel.webview, env.extensionUri, "compare", TITLE);
  }

  static create(runIds: readonly string[], env: ResultsPanelEnv, deps: Omit<CompareDeps, "runs">, onDispose: () => void): ComparePanel {
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, TITLE, vscode.ViewColumn.Active, panelOptions(env.extensionUri));
    return new ComparePanel(panel, runIds, env, deps, onDispose);
  }

  show(runIds: readonly string[]): void {
    void this.controller.setRunIds(runIds);
    this.panel.reveal();
  }
}
