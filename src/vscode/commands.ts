import * as vscode from 'vscode';
import type { LensCommandName } from './codeLensModel';
import type { Ctx } from './ctx';
import type { Launcher } from './launch';
import type { Panels } from './panels/open';
import { estimateSiteCommand, profileModel, profileSite } from './profileActions';
import {
  cancelRun,
  compareRuns,
  deleteRuns,
  exportResults,
  openRuns,
  recommendDocument,
  rerunRuns,
  revealRunLog,
  showResults,
} from './runActions';
import type { Profiler } from './runService';
import { addTarget, testTarget } from './targets';
import { requireTrust } from './trust';

/** Prefix applied once, in `registerCommands`; the table below uses bare names. */
export const COMMAND_PREFIX = 'efficientllm.';

interface CommandSpec {
  /** Title for messages; the palette title lives in package.json. */
  readonly title: string;
  /** True when the command runs code (Python, a sweep, a remote command): needs a trusted workspace. */
  readonly runsCode: boolean;
  readonly run: (ctx: Ctx, f: Features, ...args: unknown[]) => unknown;
}

/** The feature objects activate() builds once and the commands are given (constructor injection). */
export interface Features {
  readonly panels: Panels;
  readonly launcher: Launcher;
  readonly profiler: Profiler;
}

/**
 * The one command table. Keys must match `contributes.commands` in package.json without the
 * prefix (a test in test/vscode checks that every contributed command is registered). Commands
 * that only menus, views and lenses call are contributed too, hidden from the palette.
 */
export const COMMANDS = {
  profile: { title: 'Profile configuration…', runsCode: true, run: (_, f) => f.launcher.open() },
  profileModel: { title: 'Profile this model', runsCode: true, run: (ctx, f) => profileModel(ctx, f.launcher) },
  profileSite: {
    title: 'Profile variants…',
    runsCode: true,
    run: (ctx, f, arg) => profileSite(ctx, f.launcher, arg),
  },
  estimateSite: { title: 'Estimate…', runsCode: false, run: (ctx, _, arg) => estimateSiteCommand(ctx, arg) },
  addTarget: { title: 'Add target…', runsCode: false, run: (ctx) => addTarget(ctx) },
  testTarget: { title: 'Test target', runsCode: true, run: (ctx, _, arg) => testTarget(ctx, arg) },
  showResults: { title: 'Show results', runsCode: false, run: (ctx, f, ...args) => showResults(ctx, f.panels, args) },
  compareRuns: { title: 'Compare runs…', runsCode: false, run: (_, f, ...args) => compareRuns(f.panels, args) },
  exportResults: { title: 'Export results…', runsCode: false, run: (ctx, _, ...args) => exportResults(ctx, args) },
  recommend: { title: 'Recommend a technique', runsCode: false, run: (ctx) => recommendDocument(ctx) },
  cancelRun: { title: 'Cancel run', runsCode: false, run: (ctx, _, ...args) => cancelRun(ctx, args) },
  showLog: { title: 'Show log', runsCode: false, run: (ctx) => ctx.log.show(true) },
  openRun: { title: 'Open run', runsCode: false, run: (ctx, f, ...args) => openRuns(ctx, f.panels, args) },
  openRuns: { title: 'Open runs', runsCode: false, run: (ctx, f, ...args) => openRuns(ctx, f.panels, args) },
  rerunRun: { title: 'Run again', runsCode: true, run: (ctx, f, ...args) => rerunRuns(ctx, f.profiler, args) },
  deleteRun: { title: 'Delete run', runsCode: false, run: (ctx, _, ...args) => deleteRuns(ctx, args) },
  revealRunLog: { title: 'Reveal log', runsCode: false, run: (ctx, _, ...args) => revealRunLog(ctx, args) },
  refreshRuns: { title: 'Refresh', runsCode: false, run: (ctx) => ctx.runs.reload() },
} as const satisfies Record<string, CommandSpec>;

/** Every command a CodeLens can carry is in the table (a compile error otherwise). */
export const LENS_COMMANDS: Readonly<Record<LensCommandName, CommandSpec>> = COMMANDS;

export type CommandName = keyof typeof COMMANDS;

export function commandId(name: CommandName): string {
  return COMMAND_PREFIX + name;
}

export function registerCommands(ctx: Ctx, features: Features): void {
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, CommandSpec][]) {
    const id = commandId(name);
    ctx.register(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        if (spec.runsCode && !(await requireTrust(vscode.l10n.t(spec.title)))) {
          ctx.log.info(`${id}: refused, workspace is not trusted`);
          return undefined;
        }
        try {
          return await spec.run(ctx, features, ...args);
        } catch (error) {
          // A command's failure is reported here once, with its name, instead of as an
          // anonymous "command resulted in an error" from VS Code.
          const message = error instanceof Error ? error.message : String(error);
          ctx.log.error(`${id} failed: ${error instanceof Error && error.stack ? error.stack : message}`);
          const showLog = vscode.l10n.t('Show Log');
          void vscode.window
            .showErrorMessage(
              vscode.l10n.t('EfficientLLM: {0} failed: {1}', vscode.l10n.t(spec.title), message),
              showLog,
            )
            .then((choice) => {
              if (choice === showLog) ctx.log.show(true);
            });
          return undefined;
        }
      }),
    );
  }
}
