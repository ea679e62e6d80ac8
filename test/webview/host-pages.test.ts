// The real host controllers (src/vscode/panels/*Controller*, no `vscode`) talking to the real pages in
// headless Chromium: what the page posts goes to the controller's dispatcher, what the controller
// posts arrives as a `message` event, as in VS Code. Save dialogs, the run store and the launch
// function are fakes; everything between them is the shipped code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { toCsv } from '../../src/core/export';
import { targetChoices } from '../../src/views/launcherData';
import type { ProfileConfig } from '../../src/core/config';
import type { HostToPage, PanelKind } from '../../src/core/webviewProtocol/panels';
import type { ModelSite } from '../../src/detect/site';
import type { PostToPage } from '../../src/vscode/panels/dispatch';
import { LauncherController } from '../../src/vscode/panels/launcherController';
import { DashboardController, SidebarController } from '../../src/vscode/panels/resultsControllers';
import type { SaveRequest } from '../../src/vscode/panels/resultsControllers';
import { chromiumMissing } from './browser';
import { sweep } from './fixtures';
import { pageSuite } from './webviewPage';

const missing = chromiumMissing();

const log = {
  info: () => undefined,
  warn: (m: string) => void warnings.push(m),
  error: (m: string) => void warnings.push(m),
};
const warnings: string[] = [];

/** The host's post: a `message` event on the page; false once the page is gone. */
function postTo<P extends PanelKind>(page: () => Page | undefined): PostToPage<P> {
  return async (m: HostToPage<P>) => {
    const p = page();
    if (!p || p.isClosed()) return false;
    await p.evaluate((msg) => window.postMessage(msg, '*'), m);
    return true;
  };
}

describe('host controllers with the real pages', { skip: missing }, () => {
  const pages = pageSuite();

  test('launcher: seed → preview → launch hands the configs to the launch function; its end is shown', async () => {
    const site: ModelSite = {
      file: 'models/llama.py',
      line: 12,
      kind: 'attention',
      attention: 'gqa',
      name: 'LlamaAttention',
      details: { heads: 8, kvHeads: 2, hidden: 256 },
    };
    const launched: { configs: ProfileConfig[]; target: string }[] = [];
    let finish: () => void = () => undefined;
    let page: Page | undefined;
    const controller = new LauncherController(
      { file: site.file, line: site.line, site },
      {
        sites: async () => [site],
        targets: () => targetChoices([{ name: 'gpubox', kind: 'ssh', hosts: ['gpubox'] }]),
        defaults: () => ({ preset: 'tiny', attention: ['mha', 'gqa', 'mqa'], stage: 'inference', precision: ['bf16'] }),
        sampleMs: () => 50,
        launch: (configs, target) => {
          launched.push({ configs, target });
          const n = configs.length;
          return new Promise((r) => (finish = () => r({ runs: n, completed: n, failed: 0, cancelled: 0 })));
        },
        openSite: () => undefined,
      },
      postTo(() => page),
      log,
    );
    const p = await pages.open('launcher', {
      toHost: (m) => controller.dispatcher.receive(m),
      onPage: (pg) => (page = pg),
    });
    await p.page.waitForFunction(() => document.querySelector('.sweep-size')?.textContent === 'Sweep: 3 configs');
    await p.page.locator('input[data-field="attention"][value="nsa"]').check();
    await p.page.waitForFunction(() => document.querySelector('.sweep-size')?.textContent === 'Sweep: 4 configs');
    await p.page.locator('vscode-single-select[data-field="target"]').evaluate((e) => {
      (e as HTMLElement & { value: string }).value = 'gpubox';
      e.dispatchEvent(new Event('change'));
    });
    await p.page.waitForFunction(
      () =>
        document.querySelector('.sweep-size')?.getAttribute('aria-busy') === 'false' &&
        !document.querySelector('vscode-button[data-action="launch"]')?.hasAttribute('disabled'),
    );
    await p.page.locator('vscode-button[data-action="launch"]').click();
    await p.page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Launched 4 configs on gpubox.',
    );
    assert.equal(launched.length, 1);
    assert.equal(launched[0].target, 'gpubox');
    assert.deepEqual(
      launched[0].configs.map((c) => c.label),
      [
        'LlamaAttention shape · GQA-2 · bf16 · inference',
        'LlamaAttention shape · MHA · bf16 · inference',
        'LlamaAttention shape · MQA · bf16 · inference',
        'LlamaAttention shape · NSA-2 · bf16 · inference',
      ],
    );
    finish();
    await p.page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Finished 4 configs on gpubox.',
    );

    // A reload (the panel hidden and shown again): ready again, the same form from getState.
    await p.page.reload();
    await p.page.waitForFunction(() => document.querySelector('.sweep-size')?.textContent === 'Sweep: 4 configs');
    assert.equal(await p.page.locator('input[data-field="attention"][value="nsa"]').isChecked(), true);
    assert.deepEqual(await p.watch.violations(), []);
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });

  test('dashboard: data after ready, export and PNG through the save function, compare, and data again after a reload', async () => {
    const runs = sweep();
    const saves: SaveRequest[] = [];
    const compared: string[][] = [];
    let page: Page | undefined;
    const controller = new DashboardController(
      [],
      {
        runs: { list: async () => runs },
        save: async (r) => {
          saves.push(r);
          return `/work/space/${r.suggestedName}`;
        },
        openCompare: (ids) => void compared.push(ids),
      },
      postTo(() => page),
      log,
    );
    const p = await pages.open('dashboard', {
      toHost: (m) => controller.dispatcher.receive(m),
      onPage: (pg) => (page = pg),
    });
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
    const charts = await p.page.evaluate(
      () =>
        window
          .efficientllmCharts?.()
          .map((c) => c.name)
          .sort() ?? [],
    );
    assert.deepEqual(charts, ['bars', 'pareto', 'roofline', 'samples']);

    await p.page.locator('vscode-button[data-action="export-csv"]').click();
    await p.page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Saved /work/space/efficientllm-runs.csv',
    );
    assert.equal(new TextDecoder().decode(saves[0].bytes), toCsv(runs));

    await p.page.locator('vscode-button[data-action="png-pareto"]').click();
    await p.page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Saved /work/space/efficientllm-pareto.png',
    );
    const png = saves[1].bytes;
    assert.deepEqual(
      [...png.slice(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      'the chart arrives as PNG bytes',
    );
    assert.ok(png.length > 2000);

    const boxes = p.page.locator('tbody input[type="checkbox"]');
    await boxes.nth(1).check();
    await boxes.nth(3).check();
    await p.page.locator('vscode-button[data-action="compare"]').click();
    await p.page.waitForFunction(() =>
      (window as unknown as { __rec: { posted: { method?: string }[] } }).__rec.posted.some(
        (m) => m.method === 'dashboard/compare',
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(compared, [[runs[1].id, runs[3].id]]);

    // The store changed: the host pushes new data to the listening page.
    await controller.setRunIds([runs[0].id, runs[1].id]);
    await p.page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 2);

    await p.page.reload();
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
    assert.equal(await p.page.locator('tbody tr').count(), 2, 'a reloaded page says ready and gets its data again');
    assert.deepEqual(await p.watch.violations(), []);
    await p.page.close();
  });

  test('sidebar: the latest sweep, one click to the dashboard', async () => {
    const runs = sweep();
    const opened: string[][] = [];
    let page: Page | undefined;
    const controller = new SidebarController(
      { runs: { list: async () => runs }, openDashboard: (ids) => void opened.push(ids) },
      postTo(() => page),
      log,
    );
    const p = await pages.open('sidebar', {
      toHost: (m) => controller.dispatcher.receive(m),
      onPage: (pg) => (page = pg),
    });
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'sidebar');
    await p.page.locator('vscode-button[data-action="open-dashboard"]').click();
    await p.page.waitForFunction(() => (window as unknown as { __rec: { posted: unknown[] } }).__rec.posted.length > 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(opened, [runs.map((r) => r.id)]);
    await p.page.close();
    assert.deepEqual(warnings, [], 'the host logged no ignored or failed message');
  });
});
