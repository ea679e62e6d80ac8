// A real VS Code for tests: code-server (VS Code 1.139 served to a browser) started from the cache
// folder that scripts/setup-code-server.sh fills, plus headless Debian Chromium to look at it.
//
// Everything a run writes (user data, extensions, XDG dirs, TMPDIR, logs) lives in one temporary
// folder; code-server is spawned detached (its own process group, so the server, its extension host
// and pty host stop together) and stopped by PID, then the folder is removed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../webview/browser';

export const REPO = path.resolve(__dirname, '../..');
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_VERSION = '24.21.0';

/** The cache folder of scripts/setup-code-server.sh (same search order). */
export function toolsDir(): string {
  if (process.env.EFFICIENTLLM_TOOLS) return path.resolve(process.env.EFFICIENTLLM_TOOLS);
  const candidates = [
    '/opt/efficientllm-tools',
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'efficientllm-tools'),
  ];
  return (
    candidates.find((dir) => existsSync(path.join(dir, `code-server-${CODE_SERVER_VERSION}`, '.complete'))) ??
    candidates[0]
  );
}

export interface Tools {
  readonly node: string;
  readonly entry: string;
}

/** Paths of Node 24 and code-server's entry point, or the reason they are not there. */
export function findTools(): Tools | string {
  const dir = toolsDir();
  const node = path.join(dir, `node-${NODE_VERSION}`, 'bin', 'node');
  const entry = path.join(
    dir,
    `code-server-${CODE_SERVER_VERSION}`,
    'node_modules',
    'code-server',
    'out',
    'node',
    'entry.js',
  );
  if (!existsSync(node) || !existsSync(entry))
    return `code-server is not installed in ${dir} (run: bash scripts/setup-code-server.sh)`;
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (run: bash scripts/setup-code-server.sh)`;
  return { node, entry };
}

export function requireTools(): Tools {
  const tools = findTools();
  if (typeof tools === 'string') throw new Error(tools);
  return tools;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// code-server runs in its own process group, so a Ctrl-C in the terminal does not reach it: stop
// every group still running when this process is interrupted or exits, whatever the test did.
const liveGroups = new Set<number>();
const liveSandboxes = new Set<string>();
let exitHooks = false;
function installExitHooks(): void {
  if (exitHooks) return;
  exitHooks = true;
  const killAll = (): void => {
    for (const pid of liveGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    liveGroups.clear();
    for (const dir of liveSandboxes) rmSync(dir, { recursive: true, force: true });
    liveSandboxes.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** User settings that keep the workbench quiet and deterministic (no tips, no update checks, no AI). */
const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'editor.codeLens': true,
  'editor.minimap.enabled': false,
  'files.autoSave': 'off',
};

/** A folder holding everything one code-server run writes. */
export class Sandbox {
  readonly root: string;
  readonly userData: string;
  readonly extensions: string;
  readonly xdg: string;
  readonly tmp: string;
  readonly config: string;

  constructor(prefix = 'efficientllm-cs-') {
    this.root = mkdtempSync(path.join(tmpdir(), prefix));
    this.userData = path.join(this.root, 'user-data');
    this.extensions = path.join(this.root, 'extensions');
    this.xdg = path.join(this.root, 'xdg');
    this.tmp = path.join(this.root, 'tmp');
    this.config = path.join(this.root, 'config.yaml');
    for (const dir of [path.join(this.userData, 'User'), this.extensions, this.xdg, this.tmp])
      mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(this.userData, 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
    writeFileSync(this.config, 'auth: none\ncert: false\n');
    installExitHooks();
    liveSandboxes.add(this.root);
  }

  /** The environment code-server runs with: its own TMPDIR and XDG dirs, never the real home's. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TMPDIR: this.tmp,
      XDG_CONFIG_HOME: path.join(this.xdg, 'config'),
      XDG_DATA_HOME: path.join(this.xdg, 'data'),
      XDG_CACHE_HOME: path.join(this.xdg, 'cache'),
      ...extra,
    };
  }

  /** Arguments every code-server invocation gets (server or CLI). */
  baseArgs(): string[] {
    return ['--config', this.config, '--user-data-dir', this.userData, '--extensions-dir', this.extensions];
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
    liveSandboxes.delete(this.root);
  }
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs code-server as a CLI (`--install-extension`, `--list-extensions`) against the sandbox's folders. */
export function codeServerCli(sandbox: Sandbox, args: readonly string[], timeoutMs = 120_000): CliResult {
  const tools = requireTools();
  const result = spawnSync(tools.node, [tools.entry, ...sandbox.baseArgs(), ...args], {
    env: sandbox.env(),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export interface StartOptions {
  /** Extra `--vscode-option` values, e.g. `enable-smoke-test-driver`. */
  readonly vscodeOptions?: readonly string[];
  /** Extra environment for the server (inherited by the extension host). */
  readonly env?: Record<string, string>;
  /** Where code-server's stdout/stderr go (default: `<sandbox>/code-server.log`). */
  readonly logFile?: string;
}

export interface CodeServer {
  readonly url: string;
  /** `host:port`, the remote authority the workbench uses in `vscode-remote://` URIs. */
  readonly authority: string;
  readonly pid: number;
  readonly logFile: string;
  /** Stops the whole process group (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Starts code-server on a free loopback port and waits for /healthz. */
export async function startCodeServer(sandbox: Sandbox, options: StartOptions = {}): Promise<CodeServer> {
  const tools = requireTools();
  const port = await freePort();
  const authority = `127.0.0.1:${port}`;
  const logFile = options.logFile ?? path.join(sandbox.root, 'code-server.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const args = [
    tools.entry,
    ...sandbox.baseArgs(),
    '--auth',
    'none',
    '--bind-addr',
    authority,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(options.vscodeOptions ?? []).flatMap((o) => ['--vscode-option', o]),
  ];
  const child = spawn(tools.node, args, {
    env: sandbox.env({ PATH: `${path.dirname(tools.node)}:${process.env.PATH ?? ''}`, ...options.env }),
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  installExitHooks();
  if (child.pid !== undefined) liveGroups.add(child.pid);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
    // The extension host and pty host share the group: make sure none outlives the server.
    killGroup(child, 'SIGKILL');
    if (child.pid !== undefined) liveGroups.delete(child.pid);
    await sleep(200);
  };
  const url = `http://${authority}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited at start:\n${tail(logFile)}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz within 60 s:\n${tail(logFile)}`);
    }
    await sleep(100);
  }
  if (child.pid === undefined) throw new Error('code-server has no pid');
  return { url, authority, pid: child.pid, logFile, stop };
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh profile (HOME and XDG dirs inside it). */
export async function launchChromium(sandbox: Sandbox, viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const profile = path.join(sandbox.root, 'chromium');
  const home = path.join(profile, 'home');
  mkdirSync(home, { recursive: true });
  const context = await chromium.launchPersistentContext(path.join(profile, 'user-data'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
    },
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
    },
  };
}

/** A workspace folder for code-server: the given files, plus `.vscode/settings.json`. */
export function makeWorkspace(root: string, files: Record<string, string>, settings: Record<string, unknown>): string {
  for (const [rel, from] of Object.entries(files)) {
    const to = path.join(root, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, readFileSync(from));
  }
  mkdirSync(path.join(root, '.vscode'), { recursive: true });
  writeFileSync(path.join(root, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  return root;
}

/** Python with PyTorch for the harness: $EFFICIENTLLM_PYTHON (scripts/test.sh exports it), else Debian's. */
export function torchPython(): string {
  return process.env.EFFICIENTLLM_PYTHON ?? '/usr/bin/python3';
}

/** The tiny sweep the in-editor tests launch: one small config, a few steps (seconds on 2 CPU cores). */
export const TINY_SWEEP = {
  preset: 'tiny',
  attention: ['gqa'],
  stage: 'inference',
  precision: ['fp32'],
  steps: 3,
  warmup: 1,
};
