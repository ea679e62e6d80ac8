import * as vscode from 'vscode';
import { onChangeEvery } from '../coalesce';
import { PANEL_REFRESH_MS, WebviewHost, webviewHtml, webviewOptions } from './base';
import type { ResultsPanelEnv } from './base';
import { SidebarController } from './resultsControllers';

/** One resolved results view: the latest sweep, one click from the dashboard. */
class ResultsViewHost extends WebviewHost<'sidebar'> {
  constructor(
    view: vscode.WebviewView,
    env: ResultsPanelEnv,
    openDashboard: (runIds: string[]) => void | Promise<void>,
  ) {
    super();
    view.webview.options = webviewOptions(env.extensionUri);
    const controller = new SidebarController(
      { runs: env.runs, openDashboard },
      (m) => view.webview.postMessage(m),
      env.log,
    );
    this.connect(view.webview, controller.dispatcher);
    this.register(
      view.onDidChangeVisibility(() => {
        if (!view.visible) controller.dispatcher.pageGone();
      }),
    );
    this.register(onChangeEvery(env.runs, PANEL_REFRESH_MS, () => void controller.push()));
    this.register(view.onDidDispose(() => this.dispose()));
    view.webview.html = webviewHtml(view.webview, env.extensionUri, 'sidebar', 'EfficientLLM results');
  }
}

/** The `efficientllm.results` webview view under the Runs tree. */
export class ResultsViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'efficientllm.results';
  private host: ResultsViewHost | undefined;

  constructor(
    private readonly env: ResultsPanelEnv,
    private readonly openDashboard: (runIds: string[]) => void | Promise<void>,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.host?.dispose();
    this.host = new ResultsViewHost(view, this.env, this.openDashboard);
  }

  dispose(): void {
    this.host?.dispose();
    this.host = undefined;
  }
}
