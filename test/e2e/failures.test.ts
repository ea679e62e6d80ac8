// End to end in a real VS Code (code-server in headless Chromium, the extension installed from the
// .vsix), the paths where things go wrong, as a user meets them (issue 10):
//   1. efficientllm.pythonPath names an interpreter that does not exist: Launch gives an error that
//      names the setting and offers its fixes, the failed run is listed in the Runs view (and stored),
//      the Launcher says why, and the Targets view shows local not ready with that path;
//   2. the setting is fixed (the workspace's settings.json): the Targets view tests local again and
//      shows it ready with the new interpreter, and the same Launch now completes a run;
//   3. a config that cannot fit this machine's memory is refused before anything starts, the message
//      giving the estimate and the setting to change (efficientllm.fitCheck); nothing is stored;
//   4. a three-config sweep cancelled from its progress notification is reported as cancelled, in the
//      notification, in the Launcher and in the Runs view, and stored as cancelled runs.
//
//   bash scripts/setup-code-server.sh && node --import tsx --test test/e2e/failures.test.ts
//
// Screenshots of every step go to test-results/e2e-failures/ (gitignored), with code-server's log,
// the browser console and a failure-*.png of the step that failed.
import * as assert from 'node:assert/strict';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Frame, Locator, Page } from 'playwright-core';
import type { RunRecord } from '../../src/core/record';
import {
  REPO,
  Sandbox,
  TINY_SWEEP,
  codeServerCli,
  findTools,
  launchChromium,
  makeWorkspace,
  startCodeServer,
  torchPython,
  type Browser,
  type CodeServer,
} from './codeServer';
import { packagedVsix, webviewFrame } from './pages';

const ARTIFACTS = path.join(REPO, 'test-results', 'e2e-failures');
const MODEL = 'mqa_model.py';
/** An interpreter that does not exist, as a mistyped setting would name it. */
const BAD_PYTHON = '/opt/no-such-venv/bin/python3';
/** The interpreter with PyTorch the fix sets. */
const PYTHON = torchPython();

const missing = findTools();
const skip = typeof missing === 'string' ? missing : false;

const T0 = Date.now();
const log = (message: string): void => console.log(`# [${String(Date.now() - T0).padStart(6)} ms] ${message}`);

/** The stored records of the workspace, oldest first. */
function storedRuns(workspace: string): RunRecord[] {
  const dir = path.join(workspace, '.efficientllm', 'runs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
}

describe(
  'EfficientLLM in code-server: a bad interpreter, a config too large, a cancelled sweep',
  { skip, timeout: 900_000 },
  () => {
    let sandbox: Sandbox;
    let server: CodeServer | undefined;
    let browser: Browser | undefined;
    let page: Page;
    let consoleLog: WriteStream | undefined;
    let workspace: string;
    let shot = 0;
    let failedStep: string | null = null;

    async function screenshot(name: string): Promise<void> {
      await page.waitForTimeout(400);
      shot += 1;
      await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
    }

    /** One step; on failure failure-<name>.png, and the later steps (which build on it) are skipped. */
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

    const writeSettings = (python: string): void =>
      writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        JSON.stringify({ 'efficientllm.pythonPath': python, 'efficientllm.defaultSweep': TINY_SWEEP }, null, 2),
      );

    const toast = (text: RegExp): Locator =>
      page.locator('.notifications-toasts .notification-list-item', { hasText: text });

    /** The EfficientLLM side bar, opened once (a second click on its activity item would close it). */
    async function sideBar(): Promise<void> {
      const header = page.locator('.pane-header', { hasText: /^\s*Runs/ });
      if (await header.isVisible().catch(() => false)) return;
      await page.locator('.activitybar .action-item a[aria-label^="EfficientLLM"]').first().click();
      await header.first().waitFor({ timeout: 15_000 });
    }

    const viewRow = (view: string, text: string | RegExp): Locator =>
      page.locator('.pane', { has: page.locator('.pane-header', { hasText: view }) }).locator('.monaco-list-row', {
        hasText: text,
      });

    /** Sets the Launcher's checkboxes of `field` to exactly `values`. */
    async function checkOnly(launcher: Frame, field: string, values: readonly string[]): Promise<void> {
      const boxes = launcher.locator(`input[type="checkbox"][data-field="${field}"]`);
      for (let i = 0; i < (await boxes.count()); i++) {
        const box = boxes.nth(i);
        if (values.includes((await box.getAttribute('value')) ?? '')) await box.check();
        else await box.uncheck();
      }
    }

    /** The Launcher set to `attention` × fp32 at the given workload; waits until it shows `size` configs and Launch is enabled. */
    async function prepareLauncher(
      attention: readonly string[],
      workload: { steps: number; seqLen?: number; kvHeads?: number },
      size: number,
    ): Promise<Frame> {
      const launcher = await webviewFrame(page, 'launcher');
      await checkOnly(launcher, 'attention', attention);
      // Shown once GQA is ticked.
      if (workload.kvHeads !== undefined)
        await launcher.locator('input[data-field="kvHeads"]').fill(String(workload.kvHeads));
      await checkOnly(launcher, 'precision', ['fp32']);
      await launcher.locator('input[data-field="workload.steps"]').fill(String(workload.steps));
      await launcher.locator('input[data-field="workload.warmup"]').fill('1');
      if (workload.seqLen !== undefined)
        await launcher.locator('input[data-field="workload.seqLen"]').fill(String(workload.seqLen));
      await launcher.locator(`p.sweep-size[data-size="${size}"][aria-busy="false"]`).waitFor({ timeout: 15_000 });
      await launcher.locator('vscode-button[data-action="launch"]:not([disabled])').waitFor({ timeout: 15_000 });
      return launcher;
    }

    async function launch(launcher: Frame): Promise<void> {
      await launcher.locator('vscode-button[data-action="launch"]:not([disabled])').click();
    }

    /** The Launcher's status line once it says something other than "Launching…" / "Launched…". */
    async function launcherStatus(launcher: Frame, text: RegExp, timeoutMs = 60_000): Promise<string> {
      const status = launcher.locator('p.status', { hasText: text });
      await status.waitFor({ timeout: timeoutMs });
      return ((await status.textContent()) ?? '').trim();
    }

    before(async () => {
      rmSync(ARTIFACTS, { recursive: true, force: true });
      mkdirSync(ARTIFACTS, { recursive: true });
      sandbox = new Sandbox('efficientllm-e2e-failures-');
      workspace = makeWorkspace(
        path.join(sandbox.root, 'workspace'),
        { [`models/${MODEL}`]: path.join(REPO, 'test/fixtures/models/config_driven/mqa_model.py') },
        {},
      );
      writeSettings(BAD_PYTHON);
      const vsix = path.join(sandbox.root, 'efficientllm-profiler.vsix');
      copyFileSync(packagedVsix(log), vsix);
      const install = codeServerCli(sandbox, ['--install-extension', vsix]);
      assert.equal(install.status, 0, `--install-extension failed:\n${install.stdout}\n${install.stderr}`);
      // No EFFICIENTLLM_PYTHON in the server's environment: the setting alone names the interpreter.
      const inherited = process.env.EFFICIENTLLM_PYTHON;
      delete process.env.EFFICIENTLLM_PYTHON;
      try {
        server = await startCodeServer(sandbox, { logFile: path.join(ARTIFACTS, 'code-server.log') });
      } finally {
        if (inherited !== undefined) process.env.EFFICIENTLLM_PYTHON = inherited;
      }
      log(`code-server up at ${server.url} (pid ${server.pid})`);
      browser = await launchChromium(sandbox);
      page = browser.page;
      consoleLog = createWriteStream(path.join(ARTIFACTS, 'browser-console.log'));
      page.on('console', (m) => consoleLog?.write(`[${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => consoleLog?.write(`[pageerror] ${e.message}\n`));
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      consoleLog?.end();
      sandbox?.remove();
      log('code-server stopped, sandbox removed');
    });

    test('the workbench opens; the model\'s "Profile variants…" lens opens the Launcher', async (t) => {
      await step('open', t, async () => {
        assert.ok(server);
        // Generous first-load timeouts: on a loaded 2-core machine the workbench's first load takes minutes.
        await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`, {
          waitUntil: 'domcontentloaded',
          timeout: 180_000,
        });
        await page.locator('.monaco-workbench').waitFor({ timeout: 180_000 });
        const explorer = page.locator('.explorer-folders-view');
        await explorer.locator('.monaco-list-row', { hasText: 'models' }).first().click({ timeout: 120_000 });
        const file = explorer.locator('.monaco-list-row', { hasText: MODEL }).first();
        await file.waitFor({ timeout: 15_000 });
        await file.dblclick();
        const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Profile variants' }).first();
        await lens.waitFor({ timeout: 120_000 });
        await lens.click();
        await (
          await webviewFrame(page, 'launcher')
        )
          .locator('vscode-button[data-action="launch"]')
          .waitFor({ timeout: 30_000 });
        log('Launcher open');
        await screenshot('launcher');
      });
    });

    test('a missing interpreter: the error names the setting, the failed run is listed, local is not ready', async (t) => {
      await step('bad-interpreter', t, async () => {
        const launcher = await prepareLauncher(['mqa'], { steps: 3 }, 1);
        await launch(launcher);
        // The editor's message names the setting (not the CLI's --python) and offers its fixes.
        const error = toast(/efficientllm\.pythonPath/);
        await error.waitFor({ timeout: 60_000 });
        const message = ((await error.locator('.notification-list-item-message').textContent()) ?? '').trim();
        log(`error: ${message}`);
        assert.ok(message.includes(BAD_PYTHON), `the message names the interpreter: ${message}`);
        assert.doesNotMatch(message, /--python|EFFICIENTLLM_PYTHON/, 'no CLI advice in the editor');
        const buttons = await error.locator('.monaco-button').allTextContents();
        assert.ok(buttons.includes('Open Setting'), `Open Setting offered: ${buttons.join(', ')}`);
        assert.ok(buttons.includes('Select Interpreter…'), `Select Interpreter… offered: ${buttons.join(', ')}`);
        await screenshot('bad-interpreter-error');

        // The Launcher says the sweep failed, and why, in the same terms.
        const status = await launcherStatus(launcher, /failed/);
        log(`Launcher: ${status}`);
        assert.match(status, /efficientllm\.pythonPath/);

        // A failed launch is a failed run: stored, and shown as one in the Runs view.
        const stored = storedRuns(workspace);
        assert.equal(stored.length, 1, `one stored run: ${stored.map((r) => r.id).join(', ')}`);
        assert.equal(stored[0].status, 'failed');
        assert.match(stored[0].error?.message ?? '', /efficientllm\.pythonPath/);
        await sideBar();
        const row = viewRow('Runs', 'mqa').first();
        await row.waitFor({ timeout: 15_000 });
        assert.equal(await row.locator('.codicon-error').count(), 1, 'the run shows the failed icon');
        log(`Runs view: ${((await row.textContent()) ?? '').trim()}`);
        assert.match((await row.textContent()) ?? '', /failed/);

        // The Targets view no longer offers local as fine: not ready, with the path that failed.
        const local = viewRow('Targets', BAD_PYTHON).first();
        await local.waitFor({ timeout: 15_000 });
        await local.locator('.codicon-warning').waitFor({ timeout: 15_000 });
        log(`Targets view: ${((await local.textContent()) ?? '').trim()}`);
        assert.match((await local.textContent()) ?? '', /not ready/);
        await screenshot('bad-interpreter-views');
      });
    });

    test('after the setting is fixed, local is tested again and shown ready, and the same launch completes', async (t) => {
      await step('fixed-interpreter', t, async () => {
        writeSettings(PYTHON);
        // Re-checked on the settings change: ready (CPU only here) with the new interpreter, the old path gone.
        const local = viewRow('Targets', PYTHON).first();
        await local.waitFor({ timeout: 60_000 });
        await local.locator('.codicon-vm-active').waitFor({ timeout: 90_000 });
        const text = ((await local.textContent()) ?? '').trim();
        log(`Targets view after the fix: ${text}`);
        assert.doesNotMatch(text, /not ready/);
        assert.equal(await viewRow('Targets', BAD_PYTHON).count(), 0, 'the old path is shown nowhere in Targets');
        await screenshot('fixed-target');

        const launcher = await prepareLauncher(['mqa'], { steps: 3 }, 1);
        const started = Date.now();
        await launch(launcher);
        const done = toast(/1 of 1 run\(s\) completed/);
        await done.waitFor({ timeout: 180_000 });
        log(`run completed in ${Date.now() - started} ms`);
        await launcherStatus(launcher, /^Finished 1 config on local\.$/);
        const stored = storedRuns(workspace);
        assert.deepEqual(
          stored.map((r) => r.status),
          ['failed', 'completed'],
        );
        await viewRow('Runs', 'mqa').locator('.codicon-pass').first().waitFor({ timeout: 15_000 });
        await screenshot('fixed-run-completed');
      });
    });

    test('a config that cannot fit is refused before anything starts, naming the estimate and the setting', async (t) => {
      await step('fit-refusal', t, async () => {
        const before = storedRuns(workspace).length;
        // 50M positions: a KV cache and prefill activations of terabytes, far beyond this machine's RAM.
        const launcher = await prepareLauncher(['mqa'], { steps: 1, seqLen: 50_000_000 }, 1);
        await launch(launcher);
        const error = toast(/not started on local/);
        await error.waitFor({ timeout: 60_000 });
        const message = ((await error.locator('.notification-list-item-message').textContent()) ?? '').trim();
        log(`refusal: ${message}`);
        assert.match(message, /needs ≈ [\d.]+ [KMGTP]iB \(a floor: weights .*KV cache .*\); local CPU has [\d.]+ GiB/);
        assert.match(message, /set efficientllm\.fitCheck to false to try anyway/);
        const buttons = await error.locator('.monaco-button').allTextContents();
        assert.ok(buttons.includes('Open Setting'), `Open Setting offered: ${buttons.join(', ')}`);
        const status = await launcherStatus(launcher, /needs ≈/);
        log(`Launcher: ${status}`);
        assert.equal(storedRuns(workspace).length, before, 'nothing was stored');
        await screenshot('fit-refusal');
      });
    });

    test('a sweep cancelled from its progress notification is reported as cancelled everywhere', async (t) => {
      await step('cancel', t, async () => {
        const before = storedRuns(workspace).length;
        // Three configs with many steps: cancelled long before the first could finish. GQA gets 4 KV
        // heads: with the shape's single KV head it would be MQA, and the Launcher folds the two.
        const launcher = await prepareLauncher(['mha', 'gqa', 'mqa'], { steps: 100_000, seqLen: 64, kvHeads: 4 }, 3);
        await launch(launcher);
        const progress = toast(/profiling on local/);
        await progress.waitFor({ timeout: 60_000 });
        // Cancel while a run is in its measured window (or, at the latest, after 60 s of waiting for it).
        await progress
          .locator('.notification-list-item-message', { hasText: /measure/ })
          .waitFor({ timeout: 60_000 })
          .catch(() => log('no "measure" progress within 60 s; cancelling anyway'));
        log(`progress: ${((await progress.locator('.notification-list-item-message').textContent()) ?? '').trim()}`);
        await screenshot('cancel-running');
        await progress.hover();
        await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
        const cancelled = toast(/Sweep cancelled \(3 runs\)/);
        await cancelled.waitFor({ timeout: 60_000 });
        const message = ((await cancelled.locator('.notification-list-item-message').textContent()) ?? '').trim();
        log(`notification: ${message}`);
        assert.doesNotMatch(message, /completed on/, 'not "0 of 3 run(s) completed"');
        assert.equal(await cancelled.locator('.monaco-button', { hasText: 'Show results' }).count(), 0);
        const status = await launcherStatus(launcher, /cancelled/);
        log(`Launcher: ${status}`);
        assert.equal(status, 'Sweep cancelled (3 runs).');
        const added = storedRuns(workspace).slice(before);
        assert.deepEqual(
          added.map((r) => r.status),
          ['cancelled', 'cancelled', 'cancelled'],
        );
        await sideBar();
        const rows = viewRow('Runs', /cancelled/);
        await rows.nth(2).waitFor({ timeout: 15_000 });
        assert.equal(await rows.locator('.codicon-circle-slash').count(), 3, 'three runs show the cancelled icon');
        await screenshot('cancelled');
      });
    });
  },
);
