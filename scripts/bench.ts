// The combined benchmark: `npm run bench` (node --import tsx scripts/bench.ts [--files N] [--runs N] [--json]).
// One table, every figure against its budget and against a baseline measured in the same run:
//
//   detection    cold scan of 1,000 generated model files (scripts/bench-detect.ts's corpus) — files/s
//                and MB/s on one core; baseline: a regex line scan of the same files.
//   CodeLens     the provider's code path (src/vscode/codeLensModel.ts lensesForDocument, the same
//                function codeLens.ts calls) on a 5,000-line file through a fake TextDocument, after a
//                one-line edit and on first open; baseline: a regex line scan of the same text.
//   activation   require dist/extension.js and call activate() in a fresh Node process, with a STUB of
//                the vscode API (no VS Code: the host's own start-up is not counted); baseline: a
//                minimal extension (one command) under the same stub.
//   .vsix        size of the packaged extension (built with `npm run package` when missing); baseline:
//                what an unbundled package would ship (dist/ + the production node_modules).
//
// More sections (the SSH overhead benchmark) plug in through SECTIONS below, or by adding
// scripts/bench-ssh.ts exporting `section: BenchSection`; their rows join the same table.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RunRecord } from '../src/core/record';
import { DetectionCache } from '../src/detect/detector';
import { sharedPythonParser } from '../src/detect/pythonParser';
import { listModelFiles } from '../src/detect/scan';
import { lensesForDocument, type LensSources } from '../src/vscode/codeLensModel';
import { addSiteRuns, emptySitesIndex, workspaceRelative } from '../src/vscode/sitesIndex';
import { bigFile, generateCorpus, rng } from './bench-corpus';
import { regexScan, timeRuns } from './bench-detect';

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const FILES = flag('--files', 1000);
const RUNS = flag('--runs', 50);
const LINES = 5000;
const ACTIVATIONS = flag('--activations', 7);
const JSON_OUT = args.includes('--json');
/** `--only activation,.vsix`: run just the named sections (names as in the table's first column). */
const ONLY = args.includes('--only') ? (args[args.indexOf('--only') + 1]?.split(',') ?? []) : null;

export interface Row {
  section: string;
  metric: string;
  measured: string;
  budget: string;
  baseline: string;
  ratio: string;
  /** true/false against the budget; null when the row has no budget. */
  pass: boolean | null;
  /** Raw numbers for --json. */
  values?: Record<string, number>;
}

/** A part of the benchmark: returns its rows (the SSH overhead section plugs in here). */
export interface BenchSection {
  name: string;
  run(): Promise<Row[]>;
}

const ms = (x: number): string => `${x.toFixed(2)} ms`;
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;

// ---- detection throughput ----

const detection: BenchSection = {
  name: 'detection',
  async run(): Promise<Row[]> {
    const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-bench-'));
    try {
      await sharedPythonParser(); // load once; its cost is CodeLens's first-open row, not throughput
      const corpus = await generateCorpus(dir, FILES);
      const mb = corpus.bytes / 1e6;
      const t0 = performance.now();
      const listed = await listModelFiles([dir]);
      const scanned = await new DetectionCache().detectFiles(listed.files);
      const scanS = (performance.now() - t0) / 1000;
      if (scanned.problems.length > 0)
        throw new Error(`scan problems: ${JSON.stringify(scanned.problems.slice(0, 3))}`);
      const r0 = performance.now();
      for (const f of (await listModelFiles([dir])).files) regexScan(await readFile(f, 'utf8'));
      const regexS = (performance.now() - r0) / 1000;
      const fps = listed.files.length / scanS;
      return [
        {
          section: 'detection',
          metric: `scan ${listed.files.length} files (${mb.toFixed(1)} MB), cold, 1 core`,
          measured: `${fps.toFixed(0)} files/s, ${(mb / scanS).toFixed(2)} MB/s`,
          budget: '> 500 files/s',
          baseline: `regex ${(listed.files.length / regexS).toFixed(0)} files/s`,
          ratio: `${(scanS / regexS).toFixed(1)}× regex time`,
          pass: fps > 500,
          values: {
            filesPerS: fps,
            mbPerS: mb / scanS,
            regexFilesPerS: listed.files.length / regexS,
            sites: scanned.sites.length,
          },
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

// ---- CodeLens latency ----

/** Three comparable runs, as the store would hold them after a sweep launched from a lens. */
async function sampleRuns(): Promise<RunRecord[]> {
  const { resolveConfig } = await import('../src/core/config');
  const { emptyEnv, emptyMetrics } = await import('../src/core/record');
  const kinds = [
    ['mha', 1.0, 10],
    ['gqa', 1.02, 6],
    ['mqa', 1.3, 5.5],
  ] as const;
  return kinds.map(([kind, latencyS, gib], i) => {
    const cfg = resolveConfig({
      model: { preset: 'tiny' },
      attention: { kind, kvHeads: kind === 'gqa' ? 2 : undefined },
    });
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
    return {
      schema: 1,
      id: `20250101-12000${i}-ab1${i}`,
      createdAt: `2025-01-01T12:00:0${i}.000Z`,
      status: 'completed',
      target: { kind: 'local', name: 'local' },
      config: cfg.value,
      env: { ...emptyEnv(), device: { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * 2 ** 30 } },
      metrics: { ...emptyMetrics(), latencyS, peakMemoryBytes: gib * 2 ** 30 },
      measurement: null,
      samples: [],
      protocolProblems: [],
      error: null,
    } satisfies RunRecord;
  });
}

const codeLens: BenchSection = {
  name: 'CodeLens',
  async run(): Promise<Row[]> {
    const text = await bigFile(LINES);
    const lines = text.split('\n');
    const root = '/workspace';
    const fileName = path.join(root, 'models', 'big_model.py');
    const detection = new DetectionCache();
    // Sites launched from before: the lenses carry last results and recommendations too.
    const firstSites = await new DetectionCache().detectText(fileName, text);
    const runs = await sampleRuns();
    let index = emptySitesIndex();
    for (const s of firstSites.slice(0, 5))
      index = addSiteRuns(
        index,
        { file: workspaceRelative(root, fileName) ?? '', line: s.line, name: s.name },
        runs.map((r) => r.id),
      );
    const sources: LensSources = {
      detection,
      workspaceRoot: root,
      index: async () => index,
      runsById: new Map(runs.map((r) => [r.id, r])),
      precision: 'bf16',
    };
    const doc = (t: string) => ({ fileName, getText: () => t });
    // First open: the parser is loaded (by the detection section or here), the file never seen.
    const open = await timeRuns(Math.min(RUNS, 20), async () =>
      lensesForDocument(doc(text), { ...sources, detection: new DetectionCache() }),
    );
    const lensCount = (await lensesForDocument(doc(text), sources)).length;
    const editRand = rng(11);
    const edit = await timeRuns(RUNS, async (i) => {
      const copy = lines.slice();
      const at = Math.floor(editRand() * copy.length);
      copy[at] = `${copy[at]} # edit ${i}`;
      return lensesForDocument(doc(copy.join('\n')), sources);
    });
    const regex = await timeRuns(RUNS, () => regexScan(text));
    return [
      {
        section: 'CodeLens',
        metric: `${LINES}-line file, after a one-line edit (${lensCount} lenses)`,
        measured: `p50 ${ms(edit.p50)}, p95 ${ms(edit.p95)}`,
        budget: 'p95 < 20 ms',
        baseline: `regex p95 ${ms(regex.p95)}`,
        ratio: `${(edit.p95 / regex.p95).toFixed(1)}× regex`,
        pass: edit.p95 < 20,
        values: { editP50Ms: edit.p50, editP95Ms: edit.p95, regexP95Ms: regex.p95, lenses: lensCount },
      },
      {
        section: 'CodeLens',
        // Informational: every statement is parsed once; later requests are the row above.
        metric: `${LINES}-line file, first open (empty caches), info`,
        measured: `p50 ${ms(open.p50)}, p95 ${ms(open.p95)}`,
        budget: '',
        baseline: `regex p95 ${ms(regex.p95)}`,
        ratio: `${(open.p95 / regex.p95).toFixed(1)}× regex`,
        pass: null,
        values: { openP50Ms: open.p50, openP95Ms: open.p95 },
      },
    ];
  },
};

// ---- activation (stub vscode API) ----

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

function timeActivation(
  entry: string,
  workspace: string,
): { requireMs: number; activateMs: number; subscriptions: number } {
  const samples: { requireMs: number; activateMs: number; subscriptions: number }[] = [];
  for (let i = 0; i < ACTIVATIONS; i++) {
    const out = execFileSync(process.execPath, ['-e', ACTIVATION_CHILD, entry, workspace], { encoding: 'utf8' });
    samples.push(
      JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
        requireMs: number;
        activateMs: number;
        subscriptions: number;
      },
    );
  }
  samples.sort((a, b) => a.requireMs + a.activateMs - (b.requireMs + b.activateMs));
  return samples[Math.floor(samples.length / 2)]; // the median run
}

const activation: BenchSection = {
  name: 'activation',
  async run(): Promise<Row[]> {
    const entry = path.join(ROOT, 'dist', 'extension.js');
    if (!existsSync(entry)) execFileSync('node', ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-bench-act-'));
    try {
      const minimal = path.join(dir, 'dist', 'minimal.js');
      await mkdir(path.dirname(minimal), { recursive: true });
      await writeFile(minimal, MINIMAL_EXTENSION);
      const ours = timeActivation(entry, dir);
      const base = timeActivation(minimal, dir);
      const total = ours.requireMs + ours.activateMs;
      const baseTotal = base.requireMs + base.activateMs;
      return [
        {
          section: 'activation',
          metric: `require + activate(), STUB vscode API, median of ${ACTIVATIONS} processes`,
          measured: `${ms(total)} (require ${ms(ours.requireMs)}, activate ${ms(ours.activateMs)}, ${ours.subscriptions} disposables)`,
          budget: '< 50 ms',
          baseline: `1-command extension ${ms(baseTotal)}`,
          ratio: `${(total / baseTotal).toFixed(1)}× minimal`,
          pass: total < 50,
          values: { totalMs: total, requireMs: ours.requireMs, activateMs: ours.activateMs, baselineMs: baseTotal },
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

// ---- .vsix size ----

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

const vsix: BenchSection = {
  name: '.vsix',
  async run(): Promise<Row[]> {
    const file = path.join(ROOT, 'efficientllm-profiler.vsix');
    if (!existsSync(file) || args.includes('--repackage')) {
      const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
    }
    const size = statSync(file).size;
    const dist = path.join(ROOT, 'dist');
    const unbundled = treeBytes(dist) + productionModules().reduce((sum, p) => sum + treeBytes(p), 0);
    return [
      {
        section: '.vsix',
        metric: 'efficientllm-profiler.vsix (bundled, no node_modules)',
        measured: mib(size),
        budget: '< 3 MB',
        baseline: `unbundled ${mib(unbundled)}`,
        ratio: `${((100 * size) / unbundled).toFixed(1)}% of unbundled`,
        pass: size < 3 * 2 ** 20,
        values: { bytes: size, unbundledBytes: unbundled },
      },
    ];
  },
};

/** The sections, in table order. The SSH overhead benchmark is appended when scripts/bench-ssh.ts exists. */
const SECTIONS: BenchSection[] = [detection, codeLens, activation, vsix];

async function optionalSections(): Promise<BenchSection[]> {
  const file = path.join(__dirname, 'bench-ssh.ts');
  if (!existsSync(file)) return [];
  const mod = (await import(file)) as { section?: BenchSection };
  return mod.section ? [mod.section] : [];
}

function printTable(rows: Row[]): void {
  const headers = ['section', 'metric', 'measured', 'budget', 'baseline', 'ratio', 'pass/fail'];
  const cells = rows.map((r) => [
    r.section,
    r.metric,
    r.measured,
    r.budget,
    r.baseline,
    r.ratio,
    r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const section of [...SECTIONS, ...(await optionalSections())]) {
    if (ONLY && !ONLY.includes(section.name)) continue;
    try {
      rows.push(...(await section.run()));
    } catch (e) {
      rows.push({
        section: section.name,
        metric: '(did not run)',
        measured: e instanceof Error ? e.message.split('\n')[0] : String(e),
        budget: '',
        baseline: '',
        ratio: '',
        pass: false,
      });
    }
  }
  if (JSON_OUT) {
    console.log(JSON.stringify({ node: process.version, cpus: cpus().length, loadavg: loadavg(), rows }, null, 2));
  } else {
    const load = loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
    console.log(
      `EfficientLLM Profiler benchmark · node ${process.version} · ${process.platform}/${process.arch} · ${cpus().length} CPUs · load average ${load} (timings are wall clock: a busy machine inflates them)`,
    );
    console.log(
      "activation uses a STUB of the vscode API in a plain Node process (VS Code's own start-up is not included)\n",
    );
    printTable(rows);
  }
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`bench failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  });
}
