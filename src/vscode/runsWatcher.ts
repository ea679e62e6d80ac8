import * as vscode from 'vscode';
import type { RunsModel } from './runsModel';

/** The glob of stored runs inside a workspace folder (src/run/store.ts STORE_SUBDIR, with "/"). */
const RUNS_GLOB = '.efficientllm/runs/*.json';

/** The workspace folders on disk, in order: the model's folders (the first one is home, see runsModel.ts). */
export function diskFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * One FileSystemWatcher per workspace folder on disk, feeding the run model; re-made when folders
 * are added or removed. The first read of the store is started after activate() returns.
 */
export function watchRunStores(runs: RunsModel): vscode.Disposable {
  let watchers: vscode.Disposable[] = [];
  const watch = (): void => {
    for (const w of watchers) w.dispose();
    watchers = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, RUNS_GLOB));
      const onEvent = (uri: vscode.Uri): void => void runs.fileChanged(uri.fsPath);
      watchers.push(watcher, watcher.onDidCreate(onEvent), watcher.onDidChange(onEvent), watcher.onDidDelete(onEvent));
    }
  };
  watch();
  const folders = vscode.workspace.onDidChangeWorkspaceFolders(() => {
    runs.setFolders(diskFolders());
    watch();
  });
  // After activate() returns: reading the store is never part of activation.
  const first = setImmediate(() => void runs.reload());
  return new vscode.Disposable(() => {
    clearImmediate(first);
    folders.dispose();
    for (const w of watchers) w.dispose();
    runs.dispose();
  });
}
