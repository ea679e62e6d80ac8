import type * as vscode from 'vscode';
import { createPanel, RunSetPanel } from './base';
import type { ResultsPanelEnv } from './base';
import { CompareController } from './resultsControllers';
import type { CompareDeps } from './resultsControllers';

const TITLE = 'EfficientLLM: Compare';

/** Two or more runs side by side; one panel, reused for each new set. */
export class ComparePanel extends RunSetPanel<'compare', CompareController> {
  static readonly viewType = 'efficientllm.compare';

  constructor(
    panel: vscode.WebviewPanel,
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<CompareDeps, 'runs'>,
    onDispose: () => void,
  ) {
    super(
      panel,
      'compare',
      TITLE,
      env,
      (post) => new CompareController(runIds, { ...deps, runs: env.runs }, post, env.log),
      onDispose,
    );
  }

  static create(
    runIds: readonly string[],
    env: ResultsPanelEnv,
    deps: Omit<CompareDeps, 'runs'>,
    onDispose: () => void,
  ): ComparePanel {
    return new ComparePanel(createPanel(ComparePanel.viewType, TITLE, env.extensionUri), runIds, env, deps, onDispose);
  }
}
