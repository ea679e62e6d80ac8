import * as path from 'node:path';
import * as vscode from 'vscode';
import { scanWorkspace } from '../detect/scan';
import type { ModelSite } from '../detect/site';
import type { LauncherChoice } from '../core/webviewProtocol/launcher';
import type { Ctx } from './ctx';
import { launcherLaunch } from './launchWiring';
import type { LauncherDeps } from './panels/launcherController';
import { LauncherPanel } from './panels/launcherPanel';
import type { Profiler } from './runService';
import { findTarget, listTargets } from './targets';

/** Where the launcher was opened from (a CodeLens passes its file, line and detected site). */
export interface LauncherSeed {
  file?: string;
  line?: number;
  site?: ModelSite;
}

/**
 * The Launcher: one panel, re-seeded when opened again, whose Launch runs the form's configs on the
 * form's target through the injected Profiler, with the form's site (launchWiring.ts). Built once in
 * activate().
 */
export class Launcher implements vscode.Disposable {
  private panel: LauncherPanel | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly profiler: Profiler,
  ) {}

  /** Opens the launcher, its form seeded from `seed` (a site's model and techniques) and the settings. */
  async open(seed?: LauncherSeed): Promise<void> {
    if (this.panel && !this.panel.isDisposed) {
      this.panel.show(seed);
      return;
    }
    const created = LauncherPanel.create(
      seed,
      this.ctx.extension.extensionUri,
      this.deps(),
      this.ctx.log,
      this.ctx.config.onDidChange,
      () => {
        if (this.panel === created) this.panel = undefined;
      },
    );
    this.panel = created;
  }

  private deps(): LauncherDeps {
    const { ctx } = this;
    return {
      sites: () => this.workspaceSites(),
      targets: () =>
        listTargets(ctx).map((t): LauncherChoice => ({
          value: t.name,
          text: t.setting === null ? `${t.name} (this machine · ${t.spec.python})` : `${t.name} (${t.description})`,
        })),
      defaultTarget: () => ctx.config.defaultTarget,
      defaults: () => ctx.config.defaultSweep,
      sampleMs: () => ctx.config.sampleIntervalMs,
      launch: launcherLaunch({
        resolveTarget: (name) => {
          const target = findTarget(ctx, name);
          if (!target) throw new Error(vscode.l10n.t('no target "{0}": add it with "EfficientLLM: Add target…"', name));
          return target;
        },
        siteRef: (site) => ctx.siteRef(site),
        profile: (configs, spec, options) => this.profiler.run(configs, spec, options),
      }),
      openSite: (site) => this.openSite(site),
      displayPath: (file) => (path.isAbsolute(file) ? vscode.workspace.asRelativePath(file, false) : file),
    };
  }

  private async openSite(site: ModelSite): Promise<void> {
    const root = this.ctx.workspaceRoot;
    const file = path.isAbsolute(site.file) ? site.file : root !== undefined ? path.join(root, site.file) : undefined;
    if (file === undefined) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('EfficientLLM: cannot open {0}: open its folder first.', site.file),
      );
      return;
    }
    const line = Math.max(0, site.line - 1);
    await vscode.window.showTextDocument(vscode.Uri.file(file), {
      selection: new vscode.Range(line, 0, line, 0),
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
    });
  }

  /**
   * Every model site of the home folder, through the shared detection cache: the first call reads every
   * file (progress in the status bar), later ones only files whose mtime or size changed.
   */
  private async workspaceSites(): Promise<readonly ModelSite[]> {
    const { ctx } = this;
    const root = ctx.workspaceRoot;
    if (root === undefined) return [];
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EfficientLLM: scanning for model code') },
      async (progress) => {
        const result = await scanWorkspace([root], {
          cache: ctx.detection,
          onProgress: (done, total) => {
            if (done % 50 === 0 || done === total) progress.report({ message: `${done}/${total}` });
          },
        });
        for (const p of result.problems) ctx.log.debug(`scan: ${p.file}: ${p.message}`);
        return result.sites;
      },
    );
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
