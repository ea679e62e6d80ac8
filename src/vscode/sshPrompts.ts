import * as vscode from 'vscode';
import type { SshHostOptions } from '../run/remote/sshHost';
import type { UnknownHostKey } from '../run/ssh/connect';
import type { Ctx } from './ctx';

const SECRET_PREFIX = 'efficientllm.sshPassphrase:';

/**
 * A new host key is shown in a modal with its SHA256 fingerprint; only "Trust and connect" accepts
 * it (saved to EfficientLLM's own trust file, never to ~/.ssh/known_hosts). A changed or revoked key
 * is refused by the connection layer before this is asked, and that refusal reaches the user as the
 * run's or the test's error message.
 */
async function askHostKey(key: UnknownHostKey): Promise<boolean> {
  const trust = vscode.l10n.t('Trust and connect');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('EfficientLLM has not seen the host key of {0} before.', key.alias),
    {
      modal: true,
      detail: vscode.l10n.t(
        'Host {0} (port {1}) presents a {2} key with fingerprint\n\n{3}\n\nCompare it with the fingerprint your administrator gives you (ssh-keygen -lf on the host). If you trust it, it is saved to {4}.',
        key.host,
        key.port,
        key.keyType,
        key.fingerprint,
        key.trustFile,
      ),
    },
    trust,
  );
  return choice === trust;
}

/**
 * An encrypted key's passphrase: from SecretStorage when remembered (forgotten again if it turns out
 * wrong), otherwise asked in a password box, with the choice to remember it in SecretStorage. Never in
 * settings, never in the log.
 */
function passphrasePrompt(ctx: Ctx): (keyFile: string, attempt: number) => Promise<string | null> {
  return async (keyFile, attempt) => {
    const secrets = ctx.extension.secrets;
    const secretKey = SECRET_PREFIX + keyFile;
    const stored = await secrets.get(secretKey);
    if (stored !== undefined) {
      if (attempt <= 1) return stored;
      await secrets.delete(secretKey); // it was wrong: forget it and ask
    }
    const value = await vscode.window.showInputBox({
      title: vscode.l10n.t('SSH key passphrase'),
      prompt:
        attempt > 1
          ? vscode.l10n.t('Wrong passphrase for {0}; try again (Escape skips this key)', keyFile)
          : vscode.l10n.t('Passphrase for {0} (Escape skips this key)', keyFile),
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return null;
    const remember = vscode.l10n.t("Remember in VS Code's secret storage");
    const once = vscode.l10n.t('Use only this time');
    const choice = await vscode.window.showQuickPick([once, remember], {
      title: vscode.l10n.t('Remember the passphrase of {0}?', keyFile),
      ignoreFocusOut: true,
    });
    if (choice === remember) await secrets.store(secretKey, value);
    return value;
  };
}

/** How the extension connects over SSH: the user's ssh config and known_hosts, with VS Code prompts. */
export function sshOptions(ctx: Ctx): SshHostOptions {
  return {
    env: process.env,
    acceptNewHostKey: askHostKey,
    passphrase: passphrasePrompt(ctx),
    log: (line) => ctx.log.info(line),
  };
}
