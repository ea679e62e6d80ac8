// Runs suite.ts inside code-server's Node extension host: the same suite runTest.ts runs with
// @vscode/test-electron, on machines that cannot download VS Code (like this project's CI).
//
//   bash scripts/setup-code-server.sh && npm run build && node --import tsx test/vscode/run-in-code-server.ts
//
// How: a copy of the built extension (dist/, package.json, media/) is loaded with extensionDevelopmentPath and the bundled suite
// with extensionTestsPath, both passed in the workbench URL's `payload` parameter. Built VS Code
// honours those only with the smoke-test driver enabled (`--vscode-option enable-smoke-test-driver`);
// when the suite's run() settles, the workbench calls window.codeAutomationExit(code), which
// headless Chromium exposes back to this script. The exit code is the suite's result.
//
// Artifacts (test-results/vscode/): code-server.log, console.log (the browser and extension host
// console), and a screenshot when the run times out.
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import {
  REPO,
  Sandbox,
  launchChromium,
  startCodeServer,
  tail,
  torchPython,
  type Browser,
  type CodeServer,
} from '../e2e/codeServer';
import { suiteWorkspace } from './workspace';

const ARTIFACTS = path.join(REPO, 'test-results', 'vscode');
const SUITE_TIMEOUT_MS = Number(process.env.EFFICIENTLLM_VSCODE_TIMEOUT_MS ?? 180_000);
const T0 = Date.now();
const log = (message: string): void => console.log(`[${String(Date.now() - T0).padStart(6)} ms] ${message}`);

/** Bundles the suite as CommonJS for the extension host, with `vscode` left to the host. */
async function bundleSuite(outfile: string): Promise<string> {
  await build({
    absWorkingDir: REPO,
    entryPoints: ['test/vscode/suite.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    // ssh2's optional native add-ons stay out, as in scripts/build.mjs (it falls back to pure JS).
    external: ['vscode', 'cpu-features', '*.node'],
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * A copy of the built extension (package.json, dist/, media/, …) to load with
 * extensionDevelopmentPath: a `npm run build` started meanwhile (which empties dist/) cannot pull
 * the files from under the running test.
 */
function stageExtension(dest: string): string {
  if (!existsSync(path.join(REPO, 'dist', 'extension.js')))
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  mkdirSync(dest, { recursive: true });
  const wanted = (name: string): boolean =>
    ['package.json', 'dist', 'media', 'l10n', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(name) ||
    /^package\.nls(\..+)?\.json$/.test(name);
  for (const name of readdirSync(REPO).filter(wanted)) {
    cpSync(path.join(REPO, name), path.join(dest, name), { recursive: true, filter: (src) => !src.endsWith('.map') });
  }
  return dest;
}

/** Extension-host console lines arrive in the page console as `%c INFO color: … text`. */
function extensionHostLine(text: string): string | null {
  const match = /^%c\s*(?:INFO|ERR|WARN|DEBUG)\s+color: \S+\s?([\s\S]*)$/.exec(text);
  return match ? match[1] : null;
}

async function main(): Promise<number> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const sandbox = new Sandbox('efficientllm-vscode-');
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let code: number;
  try {
    const extension = stageExtension(path.join(sandbox.root, 'extension'));
    // Beside the bundles (dist/test/ → ../harness), so the suite's own imports of the run code find
    // the harness package the way the extension's do.
    const suite = await bundleSuite(path.join(extension, 'dist', 'test', 'suite.js'));
    log('staged the built extension and bundled the suite');
    const workspace = suiteWorkspace(path.join(sandbox.root, 'workspace'));
    server = await startCodeServer(sandbox, {
      vscodeOptions: ['enable-smoke-test-driver'],
      logFile: path.join(ARTIFACTS, 'code-server.log'),
      env: { EFFICIENTLLM_TEST_WORKSPACE: workspace, EFFICIENTLLM_PYTHON: torchPython() },
    });
    log(`code-server up at ${server.url} (pid ${server.pid})`);
    browser = await launchChromium(sandbox);
    const page = browser.page;
    const consoleLog = createWriteStream(path.join(ARTIFACTS, 'console.log'));
    page.on('console', (message) => {
      const text = message.text();
      consoleLog.write(`[${message.type()}] ${text}\n`);
      const line = extensionHostLine(text);
      if (line !== null && !/open-vsx|getaddrinfo|marketplace/i.test(line)) console.log(`  | ${line}`);
    });
    page.on('pageerror', (error) => consoleLog.write(`[pageerror] ${error.message}\n`));
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (exitCode: unknown) =>
        resolve(typeof exitCode === 'number' ? exitCode : 1),
      );
    });
    // URIs must name the server (vscode-remote://host:port/path), or they go to the web worker host.
    const remote = (p: string): string => `vscode-remote://${server?.authority ?? ''}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extension)],
      ['extensionTestsPath', remote(suite)],
    ];
    await page.goto(
      `${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    log('workbench opened; suite running in the extension host');
    const result = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SUITE_TIMEOUT_MS)),
    ]);
    if (result === 'timeout') {
      await page.screenshot({ path: path.join(ARTIFACTS, 'timeout.png') }).catch(() => undefined);
      console.error(
        `the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s; see ${path.relative(REPO, ARTIFACTS)}/`,
      );
      code = 1;
    } else {
      code = result;
      log(`codeAutomationExit(${code})`);
    }
    consoleLog.end();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    if (server) console.error(tail(server.logFile));
    code = 1;
  } finally {
    await browser?.close();
    await server?.stop();
    sandbox.remove();
    log('code-server stopped, sandbox removed');
  }
  writeFileSync(path.join(ARTIFACTS, 'exit-code'), `${code}\n`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `VS Code tests in code-server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
