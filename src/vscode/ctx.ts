import * as vscode from "vscode";
import { Config } from "./config";
import { createLog } from "./log";

/**
 * Everything a feature needs, built once in `activate()` and handed to each `register…(ctx)`.
 * Plain constructor injection: no container, no globals.
 */
export class Ctx {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.register(createLog());
  }

  /** The one owner of disposables: everything ends up in `context.subscriptions`. */
  register<T extends vscode.Disposable>(disposable: T): T {
    this.extension.subscriptions.push(disposable);
    return disposable;
  }

  get version(): string {
    const packageJson: unknown = this.extension.extension.packageJSON;
    if (typeof packageJson === "object" && packageJson !== null && "version" in packageJson) {
      return String(packageJson.version);
    }
    return "unknown";
  }
}
