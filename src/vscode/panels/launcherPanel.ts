import * as vscode from 'vscode';
import type { LauncherSeedInput } from '../../views/launcherData';
import { createPanel, PanelHost } from './base';
import type { DispatchLog } from './dispatch';
import { LauncherController } from './launcherController';
import type { LauncherDeps } from './launcherController';

const TITLE = 'EfficientLLM: Profile';

/** The launcher; one panel, re-seeded when opened again from another site. */
export class LauncherPanel extends PanelHost<'launcher', LauncherController> {
  static readonly viewType = 'efficientllm.launcher';

  private constructor(
    panel: vscode.WebviewPanel,
    seed: LauncherSeedInput | undefined,
    extensionUri: vscode.Uri,
    deps: LauncherDeps,
    log: DispatchLog,
    settingsChanged: vscode.Event<unknown>,
    onDispose: () => void,
  ) {
    super(
      panel,
      { kind: 'launcher', title: TITLE, extensionUri },
      (post) => new LauncherController(seed, deps, post, log),
      onDispose,
    );
    // New targets or defaults in the settings: the page gets a fresh init (its form is kept: same revision).
    this.register(settingsChanged(() => void this.controller.push()));
  }

  static create(
    seed: LauncherSeedInput | undefined,
    extensionUri: vscode.Uri,
    deps: LauncherDeps,
    log: DispatchLog,
    settingsChanged: vscode.Event<unknown>,
    onDispose: () => void,
  ): LauncherPanel {
    return new LauncherPanel(
      createPanel(LauncherPanel.viewType, TITLE, extensionUri),
      seed,
      extensionUri,
      deps,
      log,
      settingsChanged,
      onDispose,
    );
  }

  show(seed: LauncherSeedInput | undefined): void {
    void this.controller.setSeed(seed);
    this.panel.reveal();
  }
}
