import * as vscode from "vscode";
import { registerCommands } from "./vscode/commands";
import { Ctx } from "./vscode/ctx";
import { registerRunsView } from "./vscode/runsView";

/**
 * Composition root: build one context, register each feature. VS Code swallows activation errors
 * into the developer console, so we show them ourselves.
 */
export function activate(context: vscode.ExtensionContext): Ctx | undefined {
  try {
    const ctx = new Ctx(context);
    registerCommands(ctx);
    registerRunsView(ctx);
    ctx.log.info(`EfficientLLM Profiler ${ctx.version} activated (workspace trusted: ${vscode.workspace.isTrusted})`);
    return ctx;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`EfficientLLM Profiler failed to activate: ${message}`);
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
