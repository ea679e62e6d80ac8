import * as vscode from 'vscode';

/**
 * The extension's one output channel. A LogOutputChannel gives levels, timestamps and the
 * user's chosen log level for free ("Developer: Set Log Level…").
 */
export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('EfficientLLM', { log: true });
}
