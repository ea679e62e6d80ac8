// The launcher's training budget, data and seeds fields in the real page with the real host
// controller (src/vscode/panels/launcherController.ts): the empty state says quality needs a budget,
// a bad budget is named on its field (aria-invalid, its error line, the alert list) and blocks Launch,
// the data path appears only for text or token files, and the launched configs carry budget and seeds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ProfileConfig } from '../../src/core/config';
import type { HostToPage } from '../../src/core/webviewProtocol/panels';
import { targetChoices } from '../../src/views/launcherData';
import { LauncherController } from '../../src/vscode/panels/launcherController';
import type { PostToPage } from '../../src/vscode/panels/dispatch';
import { chromiumMissing } from './browser';
import { pageSuite } from './webviewPage';

const missing = chromiumMissing();
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('launcher budget fields with the real host', { skip: missing }, () => {
  const pages = pageSuite();

  test('empty state, a bad budget named on its field, data path on demand, budget and seeds launched', async () => {
    let page: Page | undefined;
    const launched: ProfileConfig[][] = [];
    const post: PostToPage<'launcher'> = async (m: HostToPage<'launcher'>) => {
      if (!page || page.isClosed()) return false;
      await page.evaluate((msg) => window.postMessage(msg, '*'), m);
      return true;
    };
    const controller = new LauncherController(
      undefined,
      {
        sites: async () => [],
        targets: () => targetChoices([]),
        defaults: () => ({ preset: 'tiny', attention: ['gqa', 'mla'], stage: 'pretrain', precision: ['fp32'] }),
        sampleMs: () => 50,
        launch: async (configs) => {
          launched.push(configs);
          return { runs: configs.length, completed: configs.length, failed: 0, cancelled: 0 };
        },
        openSite: () => undefined,
      },
      post,
      log,
    );
    const p = await pages.open('launcher', {
      toHost: (m) => controller.dispatcher.receive(m),
      onPage: (pg) => (page = pg),
    });
    const size = (text: string) =>
      p.page.waitForFunction(
        (t) =>
          document.querySelector('.sweep-size')?.textContent === t &&
          document.querySelector('.sweep-size')?.getAttribute('aria-busy') === 'false',
        text,
      );
    await size('Sweep: 2 configs');
    // Empty state: no budget means speed only, and the page says how to get quality.
    assert.match((await p.page.locator('.budget-hint').textContent()) ?? '', /^Empty: speed and memory only.*150k/);
    assert.match((await p.page.locator('.notes').textContent()) ?? '', /No training budget/);
    assert.equal(await p.page.locator('input[data-field="budget.evalEvery"]').isVisible(), false);
    assert.equal(await p.page.locator('input[data-field="budget.dataPath"]').isVisible(), false);

    // A bad budget: named on its field and in the alert list; Launch is blocked.
    const budget = p.page.locator('input[data-field="budget.trainTokens"]');
    await budget.fill('150 thousand');
    await size('Sweep: fix the fields marked below to see its size.');
    assert.equal(await budget.getAttribute('aria-invalid'), 'true');
    const describedBy = (await budget.getAttribute('aria-describedby')) ?? '';
    assert.match(
      (await p.page.locator(`[id="${describedBy}"]`).textContent()) ?? '',
      /"150 thousand" is not a token count; write a whole number such as 150000, 150k or 2M/,
    );
    const item = p.page.locator('.error-list button[data-field="budget.trainTokens"]');
    assert.equal(await item.textContent(), 'Train tokens');
    assert.equal(await p.page.locator('vscode-button[data-action="launch"]').getAttribute('disabled'), '');
    // The list item takes focus to the field, by keyboard.
    await item.focus();
    await p.page.keyboard.press('Enter');
    assert.equal(
      await p.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.field),
      'budget.trainTokens',
    );

    // Fixed, with a text file and two seeds: the path field appears; 2 configs × 2 seeds.
    await budget.fill('100k');
    await p.page.locator('vscode-single-select[data-field="budget.data"]').evaluate((e) => {
      (e as HTMLElement & { value: string }).value = 'text';
      e.dispatchEvent(new Event('change'));
    });
    await p.page.waitForFunction(() => {
      const i = document.querySelector('input[data-field="budget.dataPath"]');
      return i !== null && (i as HTMLElement).offsetParent !== null && i.getAttribute('aria-invalid') === 'true';
    });
    await p.page.locator('input[data-field="budget.dataPath"]').fill('/usr/share/common-licenses/GPL-3');
    await p.page.locator('input[data-field="seeds"]').fill('0, 1');
    await size('Sweep: 4 configs');
    assert.equal(await p.page.locator('input[data-field="budget.evalEvery"]').isVisible(), true);
    assert.match(
      (await p.page.locator('.budget-hint').textContent()) ?? '',
      /trains from scratch for this many tokens/,
    );
    await p.page.locator('vscode-button[data-action="launch"]').click();
    await p.page.waitForFunction(() =>
      /^(Launched|Finished) 4 configs/.test(document.querySelector('.status')?.textContent ?? ''),
    );
    assert.equal(launched.length, 1);
    assert.deepEqual(
      launched[0].map((c) => [c.attention.kind, c.seed, c.trainTokens, c.data, c.evalEvery]),
      [
        ['gqa', 0, 100_000, 'text:/usr/share/common-licenses/GPL-3', 25_000],
        ['gqa', 1, 100_000, 'text:/usr/share/common-licenses/GPL-3', 25_000],
        ['mla', 0, 100_000, 'text:/usr/share/common-licenses/GPL-3', 25_000],
        ['mla', 1, 100_000, 'text:/usr/share/common-licenses/GPL-3', 25_000],
      ],
    );
    assert.deepEqual(await p.watch.violations(), []);
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });
});
