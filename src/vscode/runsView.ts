import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { onChangeEvery } from './coalesce';
import type { RunItem } from './runItem';

/** A run in the Runs view; commands get it as their argument (`runId`). */
export class RunTreeItem extends vscode.TreeItem {
  readonly runId: string;

  constructor(item: RunItem) {
    super(item.label, vscode.TreeItemCollapsibleState.None);
    this.runId = item.id;
    this.id = item.id;
    this.description = item.description;
    this.tooltip = item.tooltip;
    this.iconPath = new vscode.ThemeIcon(item.icon);
    this.contextValue = item.contextValue;
    this.command = { title: vscode.l10n.t('Open'), command: 'efficientllm.openRun', arguments: [this] };
  }
}

/**
 * The "Runs" view: every stored run, newest first, and the ones running in this window with live
 * progress. Answers from memory (ctx.runs, the one run model, which follows the store's files: runs
 * from the CLI or a teammate's commit show up too).
 */
class RunsProvider implements vscode.TreeDataProvider<RunTreeItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(element: RunTreeItem): RunTreeItem {
    return element;
  }

  getChildren(): RunTreeItem[] {
    return this.ctx.runs.items().map((i) => new RunTreeItem(i));
  }
}

export function registerRunsView(ctx: Ctx): void {
  const provider = new RunsProvider(ctx);
  const view = ctx.register(
    vscode.window.createTreeView('efficientllm.runs', { treeDataProvider: provider, canSelectMany: true }),
  );
  // Progress events arrive many times a second; redraw at most every 250 ms.
  ctx.register(
    onChangeEvery(ctx.runs, 250, () => {
      provider.refresh();
      const running = ctx.runs.active.size;
      view.badge =
        running > 0 ? { value: running, tooltip: vscode.l10n.t('{0} run(s) in progress', running) } : undefined;
    }),
  );
}

/** Run ids from a command's arguments: a tree item, the view's multi-selection, an id or a list of ids. */
export function runIdsFromArgs(args: readonly unknown[]): string[] {
  const ids: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string') ids.push(v);
    else if (v instanceof RunTreeItem) ids.push(v.runId);
    else if (Array.isArray(v)) for (const x of v as unknown[]) add(x);
  };
  // VS Code passes (clicked, selected[]) for a multi-selection; the selection wins when present.
  if (args.length >= 2 && Array.isArray(args[1]) && (args[1] as unknown[]).length > 0) add(args[1]);
  else for (const a of args) add(a);
  return [...new Set(ids)];
}
