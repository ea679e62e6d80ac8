import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { registerCodeLens } from './vscode/codeLens';
import { registerCommands } from './vscode/commands';
import { registerLaunch } from './vscode/launch';
import { Ctx } from './vscode/ctx';
import { registerPanels } from './vscode/panels/open';
import { registerReattach } from './vscode/reattach';
import { registerRecommendationsView } from './vscode/recommendationsView';
import { registerRunsView } from './vscode/runsView';
import { registerStatusBar } from './vscode/statusBar';
import { registerTargetsView } from './vscode/targets';

/**
 * Composition root: build one context, register each feature. Nothing here waits on disk or the
 * parser (the run store is read in the background; the Python parser loads on the first CodeLens).
 * VS Code swallows activation errors into the developer console, so we show them ourselves.
 */
export function activate(context: vscode.ExtensionContext): Ctx | undefined {
  try {
    // The vscode-free models (CodeLens text, recommendations) translate through @vscode/l10n.
    if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
    const ctx = new Ctx(context);
    registerCommands(ctx);
    registerRunsView(ctx);
    registerTargetsView(ctx);
    registerRecommendationsView(ctx);
    registerStatusBar(ctx);
    registerCodeLens(ctx);
    registerPanels(ctx);
    registerLaunch(ctx);
    registerReattach(ctx);
    ctx.log.info(`EfficientLLM Profiler ${ctx.version} activated (workspace trusted: ${vscode.workspace.isTrusted})`);
    return ctx;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(vscode.l10n.t('EfficientLLM Profiler failed to activate: {0}', message));
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; running sweeps end with the host.
}
