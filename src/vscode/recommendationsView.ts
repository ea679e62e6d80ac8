import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { recommendationTree, type RecNode } from './recommendModel';

class RecItem extends vscode.TreeItem {
  constructor(readonly node: RecNode) {
    super(
      node.label,
      node.children.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    this.id = node.id;
    this.description = node.description;
    this.tooltip = node.tooltip;
    this.iconPath = new vscode.ThemeIcon(node.icon);
    this.contextValue = node.runIds.length > 0 ? 'recommendation.runs' : 'recommendation.prior';
    if (node.runIds.length > 0)
      this.command = {
        title: vscode.l10n.t('Open runs'),
        command: 'efficientllm.openRuns',
        arguments: [[...node.runIds]],
      };
  }
}

/** Per group of comparable runs the recommendation, expandable to its Pareto front; the study's priors before any run. */
class RecommendationsProvider implements vscode.TreeDataProvider<RecItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache: RecNode[] | null = null;

  constructor(private readonly ctx: Ctx) {}

  refresh(): void {
    this.cache = null;
    this.changed.fire();
  }

  getTreeItem(element: RecItem): RecItem {
    return element;
  }

  getChildren(element?: RecItem): RecItem[] {
    if (element) return element.node.children.map((c) => new RecItem(c));
    this.cache ??= recommendationTree(this.ctx.runs.all);
    return this.cache.map((n) => new RecItem(n));
  }
}

export function registerRecommendationsView(ctx: Ctx): void {
  const provider = new RecommendationsProvider(ctx);
  ctx.register(vscode.window.registerTreeDataProvider('efficientllm.recommendations', provider));
  // Recommendations change only when records do, not on progress ticks.
  let count = -1;
  let newest = '';
  const sub = ctx.runs.onChange(() => {
    const all = ctx.runs.all;
    const key = all.map((r) => `${r.id}:${r.status}`).join(',');
    if (all.length === count && key === newest) return;
    count = all.length;
    newest = key;
    provider.refresh();
  });
  ctx.register({ dispose: () => sub.dispose() });
}
