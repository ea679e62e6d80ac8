import * as vscode from "vscode";
import type { Ctx } from "./ctx";
import { requireTrust } from "./trust";

/** Prefix applied once, in `registerCommands`; the table below uses bare names. */
export const COMMAND_PREFIX = "efficientllm.";

interface CommandSpec {
  /** Title for messages; the palette title lives in package.json. */
  readonly title: string;
  /** True when the command runs code (Python, a sweep, a remote command): needs a trusted workspace. */
  readonly runsCode: boolean;
  readonly run: (ctx: Ctx, ...args: unknown[]) => unknown;
}

/** Placeholder body for a command whose feature lands in a later version. */
function later(title: string): CommandSpec["run"] {
  return () => vscode.window.showInformationMessage(`EfficientLLM: ${title} arrives in a later version.`);
}

/**
 * The one command table. Keys must match `contributes.commands` in package.json without the
 * prefix (a test in test/vscode checks that every contributed command is registered).
 */
export const COMMANDS = {
  profile: { title: "Profile configuration…", runsCode: true, run: later("Profile configuration…") },
  profileModel: { title: "Profile this model", runsCode: true, run: later("Profile this model") },
  addTarget: { title: "Add target…", runsCode: false, run: later("Add target…") },
  testTarget: { title: "Test target connection", runsCode: true, run: later("Test target connection") },
  showResults: { title: "Show results", runsCode: false, run: later("Show results") },
  compareRuns: { title: "Compare runs…", runsCode: false, run: later("Compare runs…") },
  exportResults: { title: "Export results…", runsCode: false, run: later("Export results…") },
  recommend: { title: "Recommend a technique", runsCode: false, run: later("Recommend a technique") },
  cancelRun: { title: "Cancel run", runsCode: false, run: later("Cancel run") },
  showLog: {
    title: "Show log",
    runsCode: false,
    run: (ctx) => ctx.log.show(true),
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function commandId(name: CommandName): string {
  return COMMAND_PREFIX + name;
}

export function registerCommands(ctx: Ctx): void {
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, CommandSpec][]) {
    const id = commandId(name);
    ctx.register(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        if (spec.runsCode && !(await requireTrust(spec.title))) {
          ctx.log.info(`${id}: refused, workspace is not trusted`);
          return undefined;
        }
        try {
          return await spec.run(ctx, ...args);
        } catch (error) {
          // A command's failure is reported here once, with its name, instead of as an
          // anonymous "command resulted in an error" from VS Code.
          const message = error instanceof Error ? error.message : String(error);
          ctx.log.error(`${id} failed: ${error instanceof Error && error.stack ? error.stack : message}`);
          void vscode.window.showErrorMessage(`EfficientLLM: ${spec.title} failed: ${message}`, "Show Log").then(
            (choice) => {
              if (choice === "Show Log") ctx.log.show(true);
            },
          );
          return undefined;
        }
      }),
    );
  }
}
