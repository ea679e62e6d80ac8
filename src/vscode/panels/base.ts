import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { pageHtml } from '../../views/reportHtml';
import type { PanelKind } from '../../core/webviewProtocol/panels';
import type { DispatchLog, PanelDispatcher, PostToPage } from './dispatch';
import { onChangeEvery } from '../coalesce';
import type { RunSource } from './resultsControllers';

// What every webview of ours shares (STYLE.md: webview-sample's security baseline): scripts on,
// resources only from the bundle folder, a fresh nonce per render, the CSP of src/views/reportHtml.ts.

/** The only folder a page may load from: dist/webview (main.js, main.css). */
export function bundleRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
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
  return randomBytes(16).toString('base64');
}

/** The page of `panel` for `webview`: the shared shell with its script and CSS by webview URI. */
export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  panel: PanelKind,
  title: string,
): string {
  const root = bundleRoot(extensionUri);
  return pageHtml({
    panel,
    title,
    assets: {
      kind: 'webview',
      cspSource: webview.cspSource,
      nonce: newNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUris: [webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString()],
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

/** What a panel host needs of its controller (resultsControllers.ts, launcherController.ts). */
export interface PanelController<P extends PanelKind> {
  readonly dispatcher: PanelDispatcher<P>;
  /** Posts fresh data if the page listens. */
  push(): Promise<void>;
}

/** A new editor panel of ours in the active column. */
export function createPanel(viewType: string, title: string, extensionUri: vscode.Uri): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, panelOptions(extensionUri));
}

/**
 * The lifecycle every editor panel shares: owns `panel`, feeds its messages to the controller,
 * tells the dispatcher when the hidden page is torn down, and calls `onDispose` once it is closed.
 * Subclasses add what differs (what else makes them push, how they are shown again).
 */
export abstract class PanelHost<P extends PanelKind, C extends PanelController<P>> extends WebviewHost<P> {
  readonly controller: C;

  /** Adopts `panel` (new, or restored by a serializer after a reload). */
  protected constructor(
    readonly panel: vscode.WebviewPanel,
    page: { kind: P; title: string; extensionUri: vscode.Uri },
    makeController: (post: PostToPage<P>) => C,
    onDispose: () => void,
  ) {
    super();
    this.register(panel);
    panel.webview.options = webviewOptions(page.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(page.extensionUri, 'media', 'icon.svg');
    this.controller = makeController((m) => panel.webview.postMessage(m));
    this.connect(panel.webview, this.controller.dispatcher);
    // Hidden without a retained context, the page is torn down; it says `ready` again when shown.
    this.register(
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.controller.dispatcher.pageGone();
      }),
    );
    this.register(
      panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
    panel.webview.html = webviewHtml(panel.webview, page.extensionUri, page.kind, page.title);
  }
}

/** The run model as the panels see it (runsModel.ts): its runs, live ones included, and its change event. */
export interface PanelRuns extends RunSource {
  onChange(listener: () => void): { dispose(): void };
}

/** Panels redraw at most this often while runs report progress. */
export const PANEL_REFRESH_MS = 500;

/** What the results panels (dashboard, compare, the results view) are built from. */
export interface ResultsPanelEnv {
  extensionUri: vscode.Uri;
  runs: PanelRuns;
  log: DispatchLog;
}

/** A controller of a set of runs (resultsControllers.ts). */
interface RunSetPanelController<P extends PanelKind> extends PanelController<P> {
  setRunIds(runIds: readonly string[]): Promise<void>;
}

/** The dashboard and compare panels: a set of runs, refreshed when the store changes; one panel, reused for each new set. */
export abstract class RunSetPanel<
  P extends 'dashboard' | 'compare',
  C extends RunSetPanelController<P>,
> extends PanelHost<P, C> {
  protected constructor(
    panel: vscode.WebviewPanel,
    kind: P,
    title: string,
    env: ResultsPanelEnv,
    makeController: (post: PostToPage<P>) => C,
    onDispose: () => void,
  ) {
    super(panel, { kind, title, extensionUri: env.extensionUri }, makeController, onDispose);
    this.register(onChangeEvery(env.runs, PANEL_REFRESH_MS, () => void this.controller.push()));
  }

  show(runIds: readonly string[]): void {
    void this.controller.setRunIds(runIds);
    this.panel.reveal();
  }
}
