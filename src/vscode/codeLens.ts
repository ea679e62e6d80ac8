import * as vscode from 'vscode';
import { lensesForDocument, type LensSpec } from './codeLensModel';
import { onChangeEvery } from './coalesce';
import { commandId } from './commands';
import type { Ctx } from './ctx';

/** Python files, and Hugging Face config.json files (opened as JSON). */
const SELECTOR: vscode.DocumentSelector = [
  { language: 'python', scheme: 'file' },
  { language: 'python', scheme: 'untitled' },
  { language: 'json', scheme: 'file', pattern: '**/config.json' },
];

function toCodeLens(spec: LensSpec): vscode.CodeLens {
  const range = new vscode.Range(spec.line, 0, spec.line, 0);
  const command: vscode.Command = spec.command
    ? {
        title: spec.title,
        tooltip: spec.tooltip,
        command: commandId(spec.command.name),
        arguments: [...spec.command.args],
      }
    : { title: spec.title, tooltip: spec.tooltip, command: '' };
  return new vscode.CodeLens(range, command);
}

/**
 * A thin wrapper: the work is codeLensModel.ts's `lensesForDocument` (vscode-free, benchmarked).
 * Never blocks: detection is async on the cached parser, the sites index and runs are in memory.
 */
class SiteLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!this.ctx.config.codeLensEnabled) return [];
    const sites = this.ctx.sites;
    try {
      const specs = await lensesForDocument(
        document,
        {
          detection: this.ctx.detection,
          workspaceRoot: this.ctx.workspaceRoot,
          index: async () => (sites ? sites.read() : null),
          runsById: this.ctx.runs.recordsById,
          precision: this.ctx.config.defaultPrecision,
        },
        () => token.isCancellationRequested,
      );
      return token.isCancellationRequested ? [] : specs.map(toCodeLens);
    } catch (error) {
      // A file the parser cannot handle gets no lenses; it must never surface as an editor error.
      this.ctx.log.debug(
        `CodeLens for ${document.fileName}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return [];
    }
  }
}

export function registerCodeLens(ctx: Ctx): void {
  const provider = new SiteLensProvider(ctx);
  ctx.register(vscode.languages.registerCodeLensProvider(SELECTOR, provider));
  ctx.register(
    ctx.config.onDidChange((e) => {
      if (e.affects('codeLens.enabled') || e.affects('defaultSweep')) provider.refresh();
    }),
  );
  // New runs or a new recommendation change the lenses; coalesce bursts of progress updates.
  ctx.register(onChangeEvery(ctx.runs, 500, () => provider.refresh()));
  ctx.register(vscode.workspace.onDidCloseTextDocument((d) => ctx.detection.forget(d.fileName)));
  if (ctx.workspaceRoot !== undefined && ctx.sites) {
    const sites = ctx.sites;
    const watcher = ctx.register(
      vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(ctx.workspaceRoot, '.efficientllm/sites.json'),
      ),
    );
    const reread = (): void => {
      sites.invalidate();
      provider.refresh();
    };
    ctx.register(watcher.onDidChange(reread));
    ctx.register(watcher.onDidCreate(reread));
    ctx.register(watcher.onDidDelete(reread));
  }
}
