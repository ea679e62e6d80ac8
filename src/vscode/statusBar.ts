import * as vscode from 'vscode';
import type { Ctx } from './ctx';

/** "$(loading~spin) 2 runs" while this window runs a sweep; click → the Runs view. Hidden otherwise. */
export function registerStatusBar(ctx: Ctx): void {
  const item = ctx.register(vscode.window.createStatusBarItem('efficientllm.runs', vscode.StatusBarAlignment.Left, 50));
  item.name = vscode.l10n.t('EfficientLLM runs');
  item.command = 'efficientllm.runs.focus';
  const update = (): void => {
    const active = [...ctx.runs.active.values()];
    if (active.length === 0) {
      item.hide();
      return;
    }
    const current = active.find((a) => a.state?.lastProgress) ?? active[0];
    const p = current.state?.lastProgress;
    item.text = `$(loading~spin) ${vscode.l10n.t('EfficientLLM: {0} run(s)', active.length)}${p ? ` · ${p.phase} ${p.step}/${p.total}` : ''}`;
    item.tooltip = `${active.map((a) => `${a.label} — ${a.targetName}`).join('\n')}\n\n${vscode.l10n.t('Click to show the Runs view')}`;
    item.show();
  };
  const sub = ctx.runs.onChange(update);
  ctx.register({ dispose: () => sub.dispose() });
}
