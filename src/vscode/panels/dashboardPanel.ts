import type * as vscode from 'vscode';
import { createPanel, RunSetPanel } from './base';
import type { ResultsPanelEnv } from './base';
import { DashboardController } from './resultsControllers';
import type { DashboardDeps } from './resultsControllers';

const TITLE = 'EfficientLLM: Results';

/** The results dashboard of a set of runs; one panel, reused for each new set. */
export class DashboardPanel extends RunSetPanel<'dashboard', DashboardController> {
  static readonly viewType = 'efficientllm.dashboard';

  /** Adopts `panel` (new, or restored by the serializer after a reload). */
  constructor(
    panel: vscode.WebviewPanel,
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<DashboardDeps, 'runs'>,
    onDispose: () => void,
  ) {
    super(
      panel,
      'dashboard',
      TITLE,
      env,
      (post) => new DashboardController(runIds, { ...deps, runs: env.runs }, post, env.log),
      onDispose,
    );
  }

  static create(
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<DashboardDeps, 'runs'>,
    onDispose: () => void,
  ): DashboardPanel {
    return new DashboardPanel(
      createPanel(DashboardPanel.viewType, TITLE, env.extensionUri),
      runIds,
      env,
      deps,
      onDispose,
    );
  }
}
