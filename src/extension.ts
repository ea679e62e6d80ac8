import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { registerCodeLens } from './vscode/codeLens';
import { registerCommands, type Features } from './vscode/commands';
import { Ctx } from './vscode/ctx';
import { Launcher } from './vscode/launch';
import { Panels } from './vscode/panels/open';
import { Profiler } from './vscode/runService';
import { registerReattach } from './vscode/reattach';
import { registerRecommendationsView } from './vscode/recommendationsView';
import { registerRunsView } from './vscode/runsView';
import { registerStatusBar } from './vscode/statusBar';
import { registerTargetsView } from './vscode/targets';

/** What activate() returns (the test suite drives the extension through it). */
export interface ExtensionApi extends Features {
  readonly ctx: Ctx;
}

/**
 * Composition root: build one context and the feature objects, each given what it needs by its
 * constructor, then register each feature. Nothing here waits on disk or the parser (the run store is
 * read in the background; the Python parser loads on the first CodeLens). VS Code swallows activation
 * errors into the developer console, so we show them ourselves.
 */
export function activate(context: vscode.ExtensionContext): ExtensionApi {
  try {
    // The vscode-free models (CodeLens text, recommendations) translate through @vscode/l10n.
    if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
    const ctx = new Ctx(context);
    const panels = ctx.register(new Panels(ctx));
    const profiler = new Profiler(ctx, (ids) => panels.openDashboard(ids));
    const launcher = ctx.register(new Launcher(ctx, profiler));
    registerCommands(ctx, { panels, launcher, profiler });
    registerRunsView(ctx);
    registerTargetsView(ctx);
    registerRecommendationsView(ctx);
    registerStatusBar(ctx);
    registerCodeLens(ctx);
    registerReattach(ctx);
    ctx.log.info(`EfficientLLM Profiler ${ctx.version} activated (workspace trusted: ${vscode.workspace.isTrusted})`);
    return { ctx, panels, launcher, profiler };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(vscode.l10n.t('EfficientLLM Profiler failed to activate: {0}', message));
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; running sweeps end with the host.
}
