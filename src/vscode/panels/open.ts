import * as vscode from 'vscode';
import { targetText } from '../../core/export';
import type { RunRecord } from '../../core/record';
import type { Ctx } from '../ctx';
import type { ResultsPanelEnv } from './base';
import { ComparePanel } from './comparePanel';
import { DashboardPanel } from './dashboardPanel';
import { runIdsFromState } from './resultsControllers';
import type { SaveRequest } from './resultsControllers';
import { ResultsViewProvider } from './resultsView';

// The results panels: the dashboard, compare, the results view in the sidebar, and the serializers
// that restore dashboard and compare after a reload. Each panel kind has one panel, revealed and
// given new data when opened again. All of them read the one run model (ctx.runs).

async function saveWithDialog(ctx: Ctx, request: SaveRequest): Promise<string | null> {
  const root = ctx.workspaceRoot;
  const uri = await vscode.window.showSaveDialog({
    title: request.title,
    defaultUri: root !== undefined ? vscode.Uri.joinPath(vscode.Uri.file(root), request.suggestedName) : undefined,
    filters: request.filters,
    saveLabel: 'Save',
  });
  if (!uri) return null;
  await vscode.workspace.fs.writeFile(uri, request.bytes);
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/** The one Compare picker: runs newest first, `preselected` ticked; undefined when dismissed. */
async function pickRuns(runs: readonly RunRecord[], preselected: readonly string[]): Promise<string[] | undefined> {
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({
      label: r.config.label,
      description: `${r.status} · ${r.id}`,
      detail: `${targetText(r.target)}${r.env.device ? ` · ${r.env.device.name}` : ''} · ${r.createdAt.replace('T', ' ').slice(0, 19)}`,
      picked: preselected.includes(r.id),
      id: r.id,
    })),
    {
      canPickMany: true,
      title: vscode.l10n.t('Compare runs'),
      placeHolder: vscode.l10n.t('Pick two or more runs to compare'),
      matchOnDescription: true,
    },
  );
  return picked?.map((p) => p.id);
}

/** The results panels of the window; built once in activate(), disposed with it. */
export class Panels implements vscode.Disposable {
  private readonly env: ResultsPanelEnv;
  private dashboard: DashboardPanel | undefined;
  private compare: ComparePanel | undefined;
  private readonly resultsView: ResultsViewProvider;

  constructor(private readonly ctx: Ctx) {
    this.env = { extensionUri: ctx.extension.extensionUri, runs: ctx.runs, log: ctx.log };
    ctx.register(
      vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.adoptDashboard(panel, runIdsFromState(state)),
      }),
    );
    ctx.register(
      vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const ids = runIdsFromState(state);
          // Nothing to compare without the runs it showed: close the empty tab.
          if (ids.length === 0) panel.dispose();
          else this.adoptCompare(panel, ids);
        },
      }),
    );
    this.resultsView = new ResultsViewProvider(this.env, (ids) => this.openDashboard(ids));
    ctx.register(vscode.window.registerWebviewViewProvider(ResultsViewProvider.viewId, this.resultsView));
  }

  private dashboardDeps(): ConstructorParameters<typeof DashboardPanel>[3] {
    return {
      save: (request) => saveWithDialog(this.ctx, request),
      openCompare: (ids) => this.openCompare(ids),
      selectRun: (id) => this.ctx.log.debug(`dashboard: selected run ${id}`),
    };
  }

  private adoptDashboard(panel: vscode.WebviewPanel, runIds: readonly string[]): void {
    const created = new DashboardPanel(panel, runIds, this.env, this.dashboardDeps(), () => {
      if (this.dashboard === created) this.dashboard = undefined;
    });
    this.dashboard = created;
  }

  private adoptCompare(panel: vscode.WebviewPanel, runIds: readonly string[]): void {
    const created = new ComparePanel(
      panel,
      runIds,
      this.env,
      { openDashboard: (ids) => this.openDashboard(ids) },
      () => {
        if (this.compare === created) this.compare = undefined;
      },
    );
    this.compare = created;
  }

  /** Shows the dashboard of `runIds` (empty: every run of the workspace). */
  async openDashboard(runIds: readonly string[]): Promise<void> {
    if (this.dashboard && !this.dashboard.isDisposed) {
      this.dashboard.show(runIds);
      return;
    }
    const created = DashboardPanel.create(runIds, this.env, this.dashboardDeps(), () => {
      if (this.dashboard === created) this.dashboard = undefined;
    });
    this.dashboard = created;
  }

  /** Compares `runIds`; with fewer than two, asks which runs to compare (those given ticked). */
  async openCompare(runIds: readonly string[]): Promise<void> {
    let ids = [...new Set(runIds)];
    if (ids.length < 2) {
      await this.ctx.runs.whenLoaded();
      const all = this.ctx.runs.all;
      if (all.length < 2) {
        void vscode.window.showInformationMessage(
          vscode.l10n.t(
            'EfficientLLM: Compare needs two or more runs; this workspace has {0}. Profile a sweep first.',
            all.length,
          ),
        );
        return;
      }
      const picked = await pickRuns(all, ids);
      if (picked === undefined) return;
      if (picked.length < 2) {
        void vscode.window.showInformationMessage(vscode.l10n.t('EfficientLLM: pick two or more runs to compare.'));
        return;
      }
      ids = picked;
    }
    if (this.compare && !this.compare.isDisposed) {
      this.compare.show(ids);
      return;
    }
    const created = ComparePanel.create(ids, this.env, { openDashboard: (x) => this.openDashboard(x) }, () => {
      if (this.compare === created) this.compare = undefined;
    });
    this.compare = created;
  }

  dispose(): void {
    this.dashboard?.dispose();
    this.compare?.dispose();
    this.resultsView.dispose();
  }
}
