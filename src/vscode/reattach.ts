import * as vscode from 'vscode';
import { analyticFor } from '../core/analytic';
import { openRuns, type RunRecord } from '../core/record';
import type { Ctx } from './ctx';
import { runtime } from './runtime';
import { sshOptions } from './sshPrompts';

/**
 * Follows those runs to their end in the background, once, after the store is first read: the
 * extension's twin of `efficientllm runs --reattach`. Each final record is stored once. Nothing is
 * contacted in an untrusted workspace.
 */
async function reattachOpenRuns(ctx: Ctx, open: RunRecord[]): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    ctx.log.info(
      `reattach: ${open.length} run(s) still open on SSH hosts; not contacting them in an untrusted workspace`,
    );
    return;
  }
  const { reattach, hooksSavingOnce } = runtime();
  const hosts = [...new Set(open.map((r) => r.target.name))].join(', ');
  ctx.log.info(`reattach: following ${open.length} run(s) left running on ${hosts}`);
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Window,
      title: vscode.l10n.t('EfficientLLM: following {0} run(s) on {1}', open.length, hosts),
    },
    () =>
      reattach(
        open,
        hooksSavingOnce(open, analyticFor, async (record) => {
          await ctx.runs.save(record);
          ctx.log.info(`reattach: ${record.id} ${record.status}${record.error ? `: ${record.error.message}` : ''}`);
        }),
        { connect: sshOptions(ctx), log: (line) => ctx.log.info(`reattach: ${line}`) },
      ),
  );
}

export function registerReattach(ctx: Ctx): void {
  let started = false;
  const sub = ctx.runs.onChange(() => {
    if (started || !ctx.runs.loaded) return;
    started = true;
    sub.dispose();
    const open = openRuns(ctx.runs.all, 'ssh'); // a closed window left these; their processes went on
    if (open.length === 0) return;
    reattachOpenRuns(ctx, open).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      ctx.log.error(`reattach: ${message}`);
      void vscode.window.showWarningMessage(
        vscode.l10n.t('EfficientLLM: could not follow the runs left running: {0}', message),
      );
    });
  });
  ctx.register({ dispose: () => sub.dispose() });
}
