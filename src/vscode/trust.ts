import * as vscode from 'vscode';

/**
 * Anything that runs code (Python, a profiling sweep, a command on a remote host) calls this
 * first. In an untrusted workspace a config file or model source could point the harness at code
 * the user never looked at, so we refuse and say how to proceed.
 * Returns true when it is safe to go on.
 */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t(
      'EfficientLLM: "{0}" runs code and is disabled in an untrusted workspace. Trust this workspace to profile models; saved results stay viewable meanwhile.',
      action,
    ),
    manage,
  );
  if (choice === manage) {
    await vscode.commands.executeCommand('workbench.trust.manage');
  }
  return false;
}
