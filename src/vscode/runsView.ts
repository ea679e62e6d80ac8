import * as vscode from "vscode";
import type { Ctx } from "./ctx";

/**
 * The "Runs" view in the EfficientLLM sidebar. Until the run store is wired in it has no items,
 * so VS Code shows the view's welcome content (package.json `viewsWelcome`) with a button to
 * start a profile. Providers never block: this one answers immediately.
 */
class RunsProvider implements vscode.TreeDataProvider<vscode.TreeItem> {
  getTreeItem(element: vscode.TreeItem): vscode.TreeItem {
    return element;
  }

  getChildren(): vscode.TreeItem[] {
    return [];
  }
}

export function registerRunsView(ctx: Ctx): void {
  ctx.register(vscode.window.registerTreeDataProvider("efficientllm.runs", new RunsProvider()));
}
