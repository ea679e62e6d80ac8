import * as vscode from 'vscode';
import { analyticFor } from '../core/analytic';
import type { ProfileConfig } from '../core/config';
import { FitError, type FitCheck } from '../core/fit';
import type { TargetSpec } from '../run/targets';
import type { Ctx } from './ctx';
import { editorFitCheck, FIT_CHECK_SETTING } from './fitCheck';
import { runtime } from './runtime';
import type { SiteRef } from './sitesIndex';
import { sshOptions } from './sshPrompts';
import { markNotReady } from './targets';
import { pythonProblemText, runSweep, tallyOf, type StartFailure, type SweepResult, type SweepTally } from './sweep';
import { requireTrust } from './trust';

export interface RunProfileOptions {
  /** The detected site the sweep was launched from: its runs are added to `.efficientllm/sites.json`. */
  readonly site?: SiteRef;
  /** Name shown for the target (a settings entry's name); default the spec's text. */
  readonly targetName?: string;
  /** The setting that holds the target's interpreter (targets.ts pythonSettingOf); default efficientllm.pythonPath. */
  readonly pythonSetting?: string;
}

/** "Sweep cancelled (3 runs)", "1 of 1 run(s) completed": how a sweep ended, in one phrase. */
export function sweepEndText(tally: SweepTally): string {
  if (tally.cancelled > 0) {
    const rest = tally.completed > 0 ? vscode.l10n.t('; {0} completed', tally.completed) : '';
    return vscode.l10n.t('Sweep cancelled ({0} runs{1})', tally.runs, rest);
  }
  return vscode.l10n.t('{0} of {1} run(s) completed', tally.completed, tally.runs);
}

/**
 * The one way the extension runs a sweep (Launcher, rerun, the test suite): sweep.ts's runSweep under
 * a cancellable progress notification, and one message at the end in the user's terms. Trust is
 * checked here once for every caller (the commands check it once more at the palette).
 */
export class Profiler {
  constructor(
    private readonly ctx: Ctx,
    private readonly openDashboard: (runIds: string[]) => Promise<void>,
  ) {}

  /** Resolves with what ran, or undefined when refused (untrusted workspace). */
  async run(
    configs: readonly ProfileConfig[],
    spec: TargetSpec,
    options: RunProfileOptions = {},
  ): Promise<SweepResult | undefined> {
    const { ctx } = this;
    if (!(await requireTrust(vscode.l10n.t('Profile')))) {
      ctx.log.info('profile: refused, workspace is not trusted');
      return undefined;
    }
    if (configs.length === 0)
      throw new Error(vscode.l10n.t('the sweep has no configs; pick at least one value on every axis'));
    ctx.requireStore();
    const targetName = options.targetName ?? runtime().targetSpecText(spec);
    ctx.log.info(`profile: ${configs.length} config(s) on ${targetName}: ${configs.map((c) => c.label).join(', ')}`);
    const controller = new AbortController();
    // Configs that cannot fit the target's memory are refused before anything is stored or started.
    const fit = ctx.config.fitCheck ? editorFitCheck(spec, process.env, ctx.log) : undefined;
    if (!fit) ctx.log.info(`profile: ${FIT_CHECK_SETTING} is off; configs are not checked against the target's memory`);
    let result: SweepResult;
    try {
      result = await this.sweep(configs, spec, targetName, controller, fit, options);
    } catch (error) {
      if (!(error instanceof FitError)) throw error;
      this.reportRefusal(error, targetName);
      // Nothing ran and nothing was stored (as the CLI's refusal); the caller reads why from the failure.
      return {
        kind: 'not-started',
        records: [],
        tally: tallyOf([]),
        failure: { message: error.message, python: null },
      };
    }
    if (result.kind === 'not-started') {
      this.reportStartFailure(result.failure, targetName, options);
      // The Targets view must not keep a ✓ for a target that just failed to start.
      const reason = result.records[0]?.error?.message ?? result.failure.message;
      await markNotReady(ctx, targetName, spec, reason, result.failure.python !== null);
    } else this.reportEnd(result, targetName);
    return result;
  }

  private sweep(
    configs: readonly ProfileConfig[],
    spec: TargetSpec,
    targetName: string,
    controller: AbortController,
    fit: FitCheck | undefined,
    options: RunProfileOptions,
  ): Thenable<SweepResult> {
    const { ctx } = this;
    // Loaded on first use: the SSH client (ssh2) costs more to load than the whole rest of activation.
    const { closeTarget, createTarget, TargetError } = runtime();
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('EfficientLLM: profiling on {0}', targetName),
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: vscode.l10n.t('starting {0} run(s)…', configs.length) });
        return runSweep(
          {
            runs: ctx.runs,
            sites: ctx.sites,
            log: ctx.log,
            createTarget: (s) =>
              createTarget(s, {
                env: process.env,
                ssh: sshOptions(ctx),
                onSlurmStatus: (e) => ctx.log.info(`slurm: ${e.message}`),
              }),
            closeTarget,
            isTargetError: (e) => e instanceof TargetError,
            analytic: analyticFor,
          },
          {
            configs,
            spec,
            targetName,
            site: options.site,
            controller,
            describeFailure: (f) => pythonProblemText(f, options.pythonSetting ?? 'efficientllm.pythonPath'),
            progress: (message, increment) => progress.report({ message, increment }),
            fit,
          },
        );
      },
    );
  }

  /** A config cannot fit: the estimate and the memory, with the setting that tries anyway one click away. */
  private reportRefusal(error: FitError, targetName: string): void {
    const { ctx } = this;
    ctx.log.warn(`profile on ${targetName}: refused by the fit check: ${error.message}`);
    const open = vscode.l10n.t('Open Setting');
    const log = vscode.l10n.t('Show Log');
    void vscode.window
      .showErrorMessage(vscode.l10n.t('EfficientLLM: not started on {0}: {1}', targetName, error.message), open, log)
      .then(async (choice) => {
        if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', FIT_CHECK_SETTING);
        else if (choice === log) ctx.log.show(true);
      });
  }

  private reportEnd(result: SweepResult, targetName: string): void {
    const { tally } = result;
    const summary = vscode.l10n.t('EfficientLLM: {0} on {1}.', sweepEndText(tally), targetName);
    const show = vscode.l10n.t('Show results');
    const log = vscode.l10n.t('Show Log');
    const finished = result.records.filter((r) => r.status === 'completed').map((r) => r.id);
    // Results to show only when some run has them; a cancelled sweep is not a warning.
    const buttons = finished.length > 0 ? [show] : [];
    const notify =
      tally.completed === tally.runs || tally.cancelled > 0
        ? vscode.window.showInformationMessage(summary, ...buttons)
        : vscode.window.showWarningMessage(summary, ...buttons, log);
    void notify.then((choice) => {
      if (choice === show) void this.openDashboard(result.records.map((r) => r.id));
      else if (choice === log) this.ctx.log.show(true);
    });
  }

  /**
   * The harness could not start. An interpreter problem names the setting and offers its fixes
   * ("Open Setting", "Select Interpreter…"); anything else shows the reason with the log.
   */
  private reportStartFailure(failure: StartFailure, targetName: string, options: RunProfileOptions): void {
    const { ctx } = this;
    const log = vscode.l10n.t('Show Log');
    if (!failure.python) {
      void vscode.window
        .showErrorMessage(
          vscode.l10n.t('EfficientLLM: {0} cannot run the harness: {1}', targetName, failure.message),
          log,
        )
        .then((c) => {
          if (c === log) ctx.log.show(true);
        });
      return;
    }
    const setting = options.pythonSetting ?? 'efficientllm.pythonPath';
    const message = pythonProblemText(failure, setting);
    const open = vscode.l10n.t('Open Setting');
    const select = vscode.l10n.t('Select Interpreter…');
    const local = setting === 'efficientllm.pythonPath';
    void vscode.window
      .showErrorMessage(`EfficientLLM: ${message}`, ...(local ? [open, select] : [open]), log)
      .then(async (choice) => {
        if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', setting);
        else if (choice === select) await selectInterpreter(ctx);
        else if (choice === log) ctx.log.show(true);
      });
  }
}

/** Select Interpreter…: a file picker whose choice becomes `efficientllm.pythonPath`. */
export async function selectInterpreter(ctx: Ctx): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Python interpreter with PyTorch (efficientllm.pythonPath)'),
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
    openLabel: vscode.l10n.t('Use this interpreter'),
  });
  const file = picked?.[0];
  if (!file) return;
  await ctx.config.setPythonPath(file.fsPath);
  ctx.log.info(`efficientllm.pythonPath set to ${file.fsPath}`);
}
