// End to end in a real VS Code: code-server serves a copy of a fixture workspace, the extension is
// installed from the packaged .vsix with `--install-extension`, and headless Chromium drives the
// workbench the way a person would: open the model file, click its "Profile variants…" CodeLens, pick
// a one-config sweep in the Launcher, Launch, wait for the run to finish, open the dashboard and read
// from inside its webview that a chart was drawn. F1 → "EfficientLLM: Show log" opens the log.
//
//   bash scripts/setup-code-server.sh && node --import tsx --test test/e2e/*.test.ts
//
// Screenshots of every step go to test-results/e2e/ (gitignored), with code-server's log, the
// browser console and a failure-*.png of the step that failed.
import * as assert from 'node:assert/strict';
import {
  copyFileSync,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import {
  REPO,
  Sandbox,
  TINY_SWEEP,
  codeServerCli,
  findTools,
  launchChromium,
  makeWorkspace,
  sleep,
  startCodeServer,
  torchPython,
  type Browser,
  type CodeServer,
} from './codeServer';
import { packagedVsix, webviewFrame } from './pages';

const ARTIFACTS = path.join(REPO, 'test-results', 'e2e');
const EXTENSION_ID = 'efficientllm.efficientllm-profiler';
const MODEL = 'mqa_model.py';

const missing = findTools();
const skip = typeof missing === 'string' ? missing : false;

const T0 = Date.now();
const log = (message: string): void => console.log(`# [${String(Date.now() - T0).padStart(6)} ms] ${message}`);

/** Per canvas (by id): pixels a chart painted, i.e. not fully transparent and not the corner colour. */
function inkedPixels(frame: Frame): Promise<Record<string, number>> {
  return frame.evaluate(() => {
    const out: Record<string, number> = {};
    document.querySelectorAll('canvas').forEach((c, i) => {
      const key = c.id || `canvas-${i}`;
      const g = c.getContext('2d');
      if (!g || c.width === 0 || c.height === 0) {
        out[key] = 0;
        return;
      }
      const { data } = g.getImageData(0, 0, c.width, c.height);
      const [r, gr, b, a] = [data[0], data[1], data[2], data[3]];
      let n = 0;
      for (let p = 0; p < data.length; p += 4) {
        if (data[p + 3] === 0) continue;
        if (
          Math.abs(data[p] - r) + Math.abs(data[p + 1] - gr) + Math.abs(data[p + 2] - b) + Math.abs(data[p + 3] - a) >
          30
        )
          n++;
      }
      out[key] = n;
    });
    return out;
  });
}

describe('EfficientLLM in code-server (Chromium)', { skip, timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let consoleLog: WriteStream | undefined;
  let workspace: string;
  let install: { status: number | null; stdout: string; stderr: string };
  let listed: string;
  let shot = 0;

  /** Saves test-results/e2e/NN-name.png after the UI settles (toasts and panels animate in). */
  async function screenshot(name: string): Promise<void> {
    await page.waitForTimeout(400);
    shot += 1;
    await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
  }

  let failedStep: string | null = null;

  /**
   * Runs one step of the flow; on failure saves failure-<name>.png and rethrows. The steps build on
   * each other, so once one failed the later ones are skipped instead of each waiting out its timeouts.
   */
  async function step(name: string, t: TestContext, fn: () => Promise<void>): Promise<void> {
    if (failedStep !== null) {
      t.skip(`the "${failedStep}" step failed`);
      return;
    }
    try {
      await fn();
    } catch (error) {
      failedStep = name;
      await page?.screenshot({ path: path.join(ARTIFACTS, `failure-${name}.png`) }).catch(() => undefined);
      throw error;
    }
  }

  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    sandbox = new Sandbox('efficientllm-e2e-');
    workspace = makeWorkspace(
      path.join(sandbox.root, 'workspace'),
      { [`models/${MODEL}`]: path.join(REPO, 'test/fixtures/models/config_driven/mqa_model.py') },
      { 'efficientllm.pythonPath': torchPython(), 'efficientllm.defaultSweep': TINY_SWEEP },
    );

    // Issue 6's must-show: the packaged .vsix installs into code-server with --install-extension.
    const vsix = path.join(sandbox.root, 'efficientllm-profiler.vsix');
    copyFileSync(packagedVsix(log), vsix);
    install = codeServerCli(sandbox, ['--install-extension', vsix]);
    listed = codeServerCli(sandbox, ['--list-extensions', '--show-versions']).stdout;
    log(`--install-extension: exit ${install.status}; --list-extensions: ${listed.trim().replace(/\n/g, ', ')}`);

    server = await startCodeServer(sandbox, {
      logFile: path.join(ARTIFACTS, 'code-server.log'),
      env: { EFFICIENTLLM_PYTHON: torchPython() },
    });
    log(`code-server up at ${server.url} (pid ${server.pid})`);
    browser = await launchChromium(sandbox);
    page = browser.page;
    consoleLog = createWriteStream(path.join(ARTIFACTS, 'browser-console.log'));
    page.on('console', (m) => consoleLog?.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => consoleLog?.write(`[pageerror] ${e.message}\n`));
  });

  after(async () => {
    // Always stop what was started, by PID (process group), even after a failure.
    await browser?.close();
    await server?.stop();
    consoleLog?.end();
    sandbox?.remove();
    log('code-server stopped, sandbox removed');
  });

  test('the .vsix installs with --install-extension and is listed', async (t) => {
    await step('install', t, async () => {
      assert.equal(install.status, 0, `--install-extension failed:\n${install.stdout}\n${install.stderr}`);
      assert.match(install.stdout, /was successfully installed/);
      assert.match(listed, new RegExp(`^${EXTENSION_ID.replace('.', '\\.')}@\\d+\\.\\d+\\.\\d+$`, 'm'));
      // Installed on the server, the extension only runs if its manifest lets it run there: VS Code
      // disables an extension whose extensionKind is only "ui" when it is installed on a remote server
      // (code-server, Remote-SSH, Codespaces) — it would be listed above and never activate.
      const installed = readdirSync(sandbox.extensions).find((d) => d.startsWith(`${EXTENSION_ID}-`));
      assert.ok(installed, `an ${EXTENSION_ID}-* folder in the extensions dir`);
      const manifest: unknown = JSON.parse(
        readFileSync(path.join(sandbox.extensions, installed, 'package.json'), 'utf8'),
      );
      const kind =
        typeof manifest === 'object' && manifest !== null && 'extensionKind' in manifest
          ? manifest.extensionKind
          : undefined;
      assert.ok(
        kind === undefined || (Array.isArray(kind) && kind.includes('workspace')),
        `extensionKind ${JSON.stringify(kind)} lets VS Code disable the extension on a remote server; use ["ui", "workspace"]`,
      );
    });
  });

  test('the workbench opens the fixture workspace', async (t) => {
    await step('workbench', t, async () => {
      assert.ok(server);
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'models' }).waitFor({ timeout: 60_000 });
      log('workbench ready');
      await screenshot('workbench');
    });
  });

  test('opening the model shows its CodeLens; "Profile variants…" opens the Launcher', async (t) => {
    await step('codelens', t, async () => {
      // Expand models/ in the Explorer and open the file (double-click: a pinned editor).
      const explorer = page.locator('.explorer-folders-view');
      await explorer.locator('.monaco-list-row', { hasText: 'models' }).first().click();
      const file = explorer.locator('.monaco-list-row', { hasText: MODEL }).first();
      await file.waitFor({ timeout: 15_000 });
      await file.dblclick();
      await page
        .locator('.monaco-editor .view-lines', { hasText: 'class MultiQueryAttention' })
        .waitFor({ timeout: 30_000 });
      const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Profile variants' }).first();
      await lens.waitFor({ timeout: 60_000 });
      const lensTexts = await page.locator('.monaco-editor .codelens-decoration').allTextContents();
      log(`CodeLens: ${lensTexts.join(' | ')}`);
      assert.ok(
        lensTexts.some((t) => t.includes('Estimate')),
        `an Estimate… lens too: ${lensTexts.join(' | ')}`,
      );
      await screenshot('codelens');
      await lens.click();
      const launcher = await webviewFrame(page, 'launcher');
      await launcher.locator('vscode-button[data-action="launch"]').waitFor({ timeout: 30_000 });
      log('Launcher open');
      await screenshot('launcher');
    });
  });

  test('the Launcher runs a one-config sweep on local, and the run completes', async (t) => {
    await step('launch', t, async () => {
      const launcher = await webviewFrame(page, 'launcher');
      // The lens seeds the site's attention (mqa) on top of the default sweep's (gqa): keep mqa only,
      // fp32, a few steps.
      const attention = launcher.locator('input[type="checkbox"][data-field="attention"]');
      for (let i = 0; i < (await attention.count()); i++) {
        const box = attention.nth(i);
        if ((await box.getAttribute('value')) === 'mqa') await box.check();
        else await box.uncheck();
      }
      const precision = launcher.locator('input[type="checkbox"][data-field="precision"]');
      for (let i = 0; i < (await precision.count()); i++) {
        const box = precision.nth(i);
        if ((await box.getAttribute('value')) === 'fp32') await box.check();
        else await box.uncheck();
      }
      await launcher.locator('input[data-field="workload.steps"]').fill('3');
      await launcher.locator('input[data-field="workload.warmup"]').fill('1');
      const size = launcher.locator('p.sweep-size[data-size="1"][aria-busy="false"]');
      await size.waitFor({ timeout: 15_000 });
      const configs = await launcher.locator('table.launcher-configs tbody th').allTextContents();
      log(`sweep: ${(await size.textContent()) ?? ''}: ${configs.join(', ')}`);
      assert.deepEqual(configs.length, 1);
      // The lens seeded the launcher with the site: its shape (12 layers, hidden 1024, 16 heads, 1 KV
      // head, from the file's CONFIG) over the tiny preset's FFN and vocabulary.
      assert.match(configs[0], /MQA · fp32 · inference/);
      assert.equal(
        await launcher
          .locator('vscode-single-select[data-field="preset"]')
          .evaluate((e) => (e as HTMLElement & { value?: unknown }).value),
        'tiny',
      );
      const launch = launcher.locator('vscode-button[data-action="launch"]:not([disabled])');
      await launch.waitFor({ timeout: 15_000 });
      await screenshot('launcher-tiny-sweep');
      const started = Date.now();
      await launch.click();

      // The run finishes with a notification offering "Show results".
      const toast = page.locator('.notifications-toasts .notification-list-item', {
        hasText: /1 of 1 run\(s\) completed/,
      });
      await toast.waitFor({ timeout: 120_000 });
      log(
        `run completed in ${Date.now() - started} ms: ${(await toast.locator('.notification-list-item-message').textContent()) ?? ''}`,
      );
      await screenshot('run-completed');

      // The Runs view lists it as passed.
      await page.locator('.activitybar .action-item a[aria-label^="EfficientLLM"]').first().click();
      const row = page.locator('.pane', { hasText: 'Runs' }).locator('.monaco-list-row', { hasText: 'mqa' }).first();
      await row.waitFor({ timeout: 15_000 });
      assert.equal(await row.locator('.codicon-pass').count(), 1, 'the run shows the completed icon');
      log(`Runs view: ${((await row.textContent()) ?? '').trim()}`);
      await screenshot('runs-view');

      // Stored in the workspace, where the CLI and teammates find it.
      const runs = readdirSync(path.join(workspace, '.efficientllm', 'runs')).filter((f) => f.endsWith('.json'));
      assert.equal(runs.length, 1, `one stored run: ${runs.join(', ')}`);
    });
  });

  test('"Show results" opens the dashboard and a chart is drawn inside the webview', async (t) => {
    await step('dashboard', t, async () => {
      const toast = page.locator('.notifications-toasts .notification-list-item', {
        hasText: /1 of 1 run\(s\) completed/,
      });
      await toast.hover();
      await toast.locator('.monaco-button', { hasText: 'Show results' }).click();
      const dashboard = await webviewFrame(page, 'dashboard');
      // chart.js animates in: poll until a canvas carries ink.
      let inked: Record<string, number> = {};
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        inked = await inkedPixels(dashboard);
        if (Object.values(inked).some((n) => n > 500)) break;
        await sleep(250);
      }
      log(`dashboard canvases (painted pixels): ${JSON.stringify(inked)}`);
      assert.ok(
        Object.values(inked).some((n) => n > 500),
        `a chart canvas has painted pixels: ${JSON.stringify(inked)}`,
      );
      const title = await dashboard.locator('h1').first().textContent();
      log(`dashboard heading: ${title ?? ''}`);
      await sleep(800); // let the animation finish for the screenshot
      await screenshot('dashboard');
      const frameElement = await dashboard.frameElement();
      await frameElement.screenshot({
        path: path.join(ARTIFACTS, `${String(++shot).padStart(2, '0')}-dashboard-webview.png`),
      });
    });
  });

  test('F1 → "EfficientLLM: Show log" opens the output channel', async (t) => {
    await step('show-log', t, async () => {
      // Focus the workbench (not a webview) before F1: click the editor area's tab bar.
      await page
        .locator('.monaco-workbench .part.editor .tabs-container')
        .first()
        .click({ position: { x: 5, y: 5 } })
        .catch(() => undefined);
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 10_000 });
      await input.fill('>EfficientLLM: Show log');
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: 'EfficientLLM: Show log' })
        .first()
        .waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      const output = page.locator('.part.panel .output-view, .part.panel [id="workbench.panel.output"]').first();
      await output.waitFor({ timeout: 15_000 });
      // Monaco renders spaces as no-break spaces: \s matches both.
      await page
        .locator('.part.panel .view-lines', { hasText: /EfficientLLM\sProfiler\s\S+\sactivated/ })
        .first()
        .waitFor({ timeout: 15_000 });
      log('output channel shows the EfficientLLM log');
      await screenshot('show-log');
    });
  });
});
