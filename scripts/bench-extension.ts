// Bench sections "activation" and ".vsix".
//   activation  require dist/extension.js and call activate() in a fresh Node process, with a STUB of the
//               vscode API (no VS Code: the host's own start-up is not counted), alternated process by
//               process (A B A B) with a minimal extension (one command) under the same stub.
//   .vsix       size of efficientllm-profiler.vsix against what an unbundled package would ship (dist/ +
//               the production node_modules). The bench never packages (that rewrites the shared dist/):
//               without the file, or without dist/extension.js, the row is null and says what to run.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { alternate, median, notMeasured, row, type BenchSection, type Row } from './bench-rows';

const ROOT = path.resolve(__dirname, '..');

/**
 * Runs in a fresh `node` process: installs a stub `vscode` module (plain objects, a recursive no-op
 * Proxy for anything not spelled out), then times require(entry) + activate(context). Prints ms.
 */
const ACTIVATION_CHILD = String.raw`
const Module = require("module");
const path = require("path");
const [entry, workspace] = process.argv.slice(1);
const noop = () => {};
function anything() {
  const fn = function () { return proxy; };
  const proxy = new Proxy(fn, { get: (_t, k) => (k === "then" ? undefined : k === Symbol.toPrimitive ? () => "" : proxy), apply: () => proxy, construct: () => proxy });
  return proxy;
}
const any = anything();
class EventEmitter { constructor() { this.listeners = new Set(); this.event = (l) => { this.listeners.add(l); return { dispose: () => this.listeners.delete(l) }; }; } fire(v) { for (const l of this.listeners) l(v); } dispose() { this.listeners.clear(); } }
class Disposable { constructor(f) { this.f = f; } dispose() { this.f && this.f(); } static from(...d) { return new Disposable(() => d.forEach((x) => x.dispose())); } }
class TreeItem { constructor(label, state) { this.label = label; this.collapsibleState = state; } }
const log = { info: noop, warn: noop, error: noop, debug: noop, trace: noop, show: noop, dispose: noop, append: noop, appendLine: noop };
const disposable = () => ({ dispose: noop });
// Namespaces answer anything not spelled out with the no-op proxy (onDid… events, register… calls).
const ns = (o) => new Proxy(o, { get: (t, k) => (k in t ? t[k] : any) });
const vscode = new Proxy({
  EventEmitter, Disposable, TreeItem,
  ThemeIcon: class { constructor(id) { this.id = id; } },
  MarkdownString: class { constructor() { this.value = ""; } appendText(t) { this.value += t; return this; } appendMarkdown(t) { this.value += t; return this; } },
  RelativePattern: class { constructor(base, pattern) { this.base = base; this.pattern = pattern; } },
  Range: class {}, CodeLens: class {},
  Uri: { file: (p) => ({ scheme: "file", fsPath: p, path: p }), joinPath: (u, ...p) => ({ scheme: "file", fsPath: path.join(u.fsPath, ...p) }) },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 }, ProgressLocation: { Notification: 15, Window: 10 }, ViewColumn: { Beside: -2 }, ConfigurationTarget: { Global: 1 },
  l10n: { bundle: undefined, t: (m) => m },
  env: ns({ language: "en" }),
  workspace: ns({
    isTrusted: true, workspaceFolders: [{ uri: { scheme: "file", fsPath: workspace }, name: "ws", index: 0 }], textDocuments: [],
    getConfiguration: () => ({ get: (_k, d) => d, update: async () => {} }),
    onDidChangeConfiguration: disposable, onDidCloseTextDocument: disposable, onDidGrantWorkspaceTrust: disposable,
    createFileSystemWatcher: () => ({ onDidChange: disposable, onDidCreate: disposable, onDidDelete: disposable, dispose: noop }),
    registerTextDocumentContentProvider: disposable,
  }),
  window: ns({
    createOutputChannel: () => log,
    registerTreeDataProvider: disposable, registerWebviewPanelSerializer: disposable, registerWebviewViewProvider: disposable,
    createTreeView: () => ({ dispose: noop, badge: undefined, onDidChangeSelection: disposable, onDidChangeVisibility: disposable }),
    createStatusBarItem: () => ({ show: noop, hide: noop, dispose: noop }),
    showErrorMessage: async () => undefined, showInformationMessage: async () => undefined, showWarningMessage: async () => undefined,
  }),
  commands: ns({ registerCommand: disposable, executeCommand: async () => undefined }),
  languages: ns({ registerCodeLensProvider: disposable }),
}, { get: (t, k) => (k in t ? t[k] : any) });
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === "vscode" ? "vscode" : resolve.call(this, request, ...rest); };
require.cache.vscode = { id: "vscode", filename: "vscode", loaded: true, exports: vscode };
const context = { subscriptions: [], extensionUri: { scheme: "file", fsPath: path.dirname(path.dirname(entry)) }, extensionPath: path.dirname(path.dirname(entry)),
  extension: { packageJSON: { version: "bench" } }, workspaceState: { get: (_k, d) => d, update: async () => {} }, globalState: { get: (_k, d) => d, update: async () => {} },
  secrets: { get: async () => undefined, store: async () => {}, delete: async () => {} }, asAbsolutePath: (p) => p };
const t0 = process.hrtime.bigint();
const ext = require(entry);
const t1 = process.hrtime.bigint();
ext.activate(context);
const t2 = process.hrtime.bigint();
console.log(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6, activateMs: Number(t2 - t1) / 1e6, subscriptions: context.subscriptions.length }));
setImmediate(() => process.exit(0));
`;

/** The smallest extension there is: one command. The activation baseline. */
const MINIMAL_EXTENSION = `"use strict";
const vscode = require("vscode");
exports.activate = (context) => { context.subscriptions.push(vscode.commands.registerCommand("x.hello", () => vscode.window.showInformationMessage("hello"))); };
`;

/** Milliseconds of require(entry) + activate() in a fresh process. */
function activationMs(entry: string, workspace: string): number {
  const out = execFileSync(process.execPath, ['-e', ACTIVATION_CHILD, entry, workspace], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { requireMs: number; activateMs: number };
  return r.requireMs + r.activateMs;
}

export function activationSection(processes: number): BenchSection {
  const name = `activation: require + activate() of dist/extension.js, STUB vscode API, median of ${processes} processes, vs a 1-command extension`;
  return {
    name: 'activation',
    async run(): Promise<Row[]> {
      const entry = path.join(ROOT, 'dist', 'extension.js');
      const budget = { on: 'value', op: '<', limit: 50 } as const;
      if (!existsSync(entry))
        return [notMeasured(name, 'ms', 'dist/extension.js is missing: run npm run build', budget)];
      const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-bench-act-'));
      try {
        const minimal = path.join(dir, 'dist', 'minimal.js');
        await mkdir(path.dirname(minimal), { recursive: true });
        await writeFile(minimal, MINIMAL_EXTENSION);
        const runs = await alternate(
          processes,
          () => activationMs(entry, dir),
          () => activationMs(minimal, dir),
        );
        return [row(name, 'ms', median(runs.ours), median(runs.baseline), budget)];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function treeBytes(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((sum, name) => sum + treeBytes(path.join(p, name)), 0);
}

/** The production dependency closure from package-lock.json (what an unbundled .vsix would carry). */
function productionModules(): string[] {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(
      ([p, info]) =>
        p.startsWith('node_modules/') && !info.dev && !p.slice('node_modules/'.length).includes('node_modules/'),
    )
    .map(([p]) => path.join(ROOT, p))
    .filter((p) => existsSync(p));
}

export const vsixSection: BenchSection = {
  name: '.vsix',
  async run(): Promise<Row[]> {
    const name = 'efficientllm-profiler.vsix (bundled, no node_modules) vs unbundled dist/ + production node_modules';
    const file = path.join(ROOT, 'efficientllm-profiler.vsix');
    const budget = { on: 'value', op: '<', limit: 3 * 2 ** 20 } as const;
    if (!existsSync(file))
      return [notMeasured(name, 'B', 'no efficientllm-profiler.vsix: run npm run package', budget)];
    const unbundled =
      treeBytes(path.join(ROOT, 'dist')) + productionModules().reduce((sum, p) => sum + treeBytes(p), 0);
    return [row(name, 'B', statSync(file).size, unbundled, budget)];
  },
};
