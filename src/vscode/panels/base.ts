import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { pageHtml } from "../../core/reportHtml";
import type { PanelKind } from "../../core/webviewProtocol";
import type { PanelDispatcher } from "./dispatch";

// What every webview of ours shares (STYLE.md: webview-sample's security baseline): scripts on,
// resources only from the bundle folder, a fresh nonce per render, the CSP of src/core/reportHtml.ts.

/** The only folder a page may load from: dist/webview (main.js, main.css). */
export function bundleRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, "dist", "webview");
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: [bundleRoot(extensionUri)] };
}

/** Options of a new panel: state lives in the page's getState/setState, not in a retained context. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { ...webviewOptions(extensionUri), retainContextWhenHidden: false, enableFindWidget: true };
}

/** 16 random bytes as base64: a nonce that no page content can guess. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/** The page of `panel` for `webview`: the shared shell with its script and CSS by webview URI. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, panel: PanelKind, title: string): string {
  const root = bundleRoot(extensionUri);
  return pageHtml({
    panel,
    title,
    assets: {
      kind: "webview",
      cspSource: webview.cspSource,
      nonce: newNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, "main.js")).toString(),
      styleUris: [webview.asWebviewUri(vscode.Uri.joinPath(root, "main.css")).toString()],
    },
  });
}

/**
 * Owns one webview's disposables (its listeners and, for a panel, the panel itself) exactly once,
 * and feeds the webview's messages to a dispatcher.
 */
export abstract class WebviewHost<P extends PanelKind> implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  protected register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.disposables.push(disposable);
    return disposable;
  }

  /** Messages from the page go to `dispatcher`; set the HTML after this so `ready` is not missed. */
  protected connect(webview: vscode.Webview, dispatcher: PanelDispatcher<P>): void {
    this.register(webview.onDidReceiveMessage((message: unknown) => void dispatcher.receive(message)));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Last registered first: listeners go before the panel they listen to.
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
  }
}
