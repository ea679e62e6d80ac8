// Quality beside cost, and several stages, in the pages (real Chromium, the simulated webview):
// one group of comparable runs at a time with a keyboard-usable picker, the loss curves drawn from
// the records' evals (every point checked against the fixture), the entropy floor, quality columns,
// seeds as mean ± spread, perplexity as a Pareto axis, and Compare's warning across stages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ChartSummary } from '../../webview/charts';
import { notification } from '../../src/core/webviewProtocol/panels';
import { compareData, dashboardData, sidebarData } from '../../src/views/webviewData';
import { DashboardController } from '../../src/vscode/panels/resultsControllers';
import { chromiumMissing } from './browser';
import { ENTROPY, finetuneRuns, inferenceRuns, pretrainRuns, stagedRuns } from './qualityFixtures';
import { pageSuite } from './webviewPage';
import type { Recorded, WebviewPage } from './webviewPage';

const missing = chromiumMissing();

const charts = (page: Page): Promise<ChartSummary[]> => page.evaluate(() => window.efficientllmCharts?.() ?? []);
const chart = async (page: Page, name: string): Promise<ChartSummary | undefined> =>
  (await charts(page)).find((c) => c.name === name);

/** Waits for a fresh render (the marker is cleared first). */
async function rendered(page: Page, before: () => Promise<void>): Promise<void> {
  await page.evaluate(() => delete document.documentElement.dataset.rendered);
  await before();
  await page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
}

/** Sets a vscode-single-select by its data-action, as a pick in its list does (value, then change). */
async function pick(page: Page, action: string, value: string): Promise<void> {
  await page.locator(`vscode-single-select[data-action="${action}"]`).evaluate((e, v) => {
    (e as HTMLElement & { value: string }).value = v;
    e.dispatchEvent(new Event('change'));
  }, value);
}

const cellTexts = (page: Page, key: string): Promise<string[]> =>
  page.evaluate((k) => {
    const table = document.querySelector('.runs table');
    if (!table) return [];
    const heads = Array.from(table.querySelectorAll<HTMLElement>('thead button.sort')).map((b) => b.dataset.key);
    const i = heads.indexOf(k);
    if (i < 0) return [];
    return Array.from(table.querySelectorAll('tbody tr')).map((tr) => tr.children[i]?.textContent ?? '');
  }, key);

describe('quality and stages in the pages', { skip: missing }, () => {
  const pages = pageSuite();

  async function dashboard(data: unknown): Promise<WebviewPage> {
    const p = await pages.open('dashboard');
    await p.postedMoreThan(0);
    await rendered(p.page, () => p.fromHost(notification('dashboard', 'dashboard/data', data as never)));
    return p;
  }

  test('three stages: one group at a time, the newest first; the picker switches by keyboard', async () => {
    const runs = stagedRuns();
    const data = dashboardData(runs);
    const p = await dashboard(data);
    const { page } = p;
    const options = await page.locator('vscode-single-select[data-action="group"] vscode-option').allTextContents();
    assert.equal(options.length, 3);
    assert.match(options[0], /^pretrain · /);
    assert.match(options[1], /^finetune · /);
    assert.match(options[2], /^inference · /);
    assert.match((await page.locator('.group-note').textContent()) ?? '', /3 stages \(pretrain, finetune, inference\)/);
    // The newest completed group (inference) is shown: its two runs only, in the table and the bars.
    assert.deepEqual(
      await page.locator('.runs tbody tr[data-row]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-row'))),
      inferenceRuns().map((r) => r.id),
    );
    assert.equal((await chart(page, 'bars'))?.points, 2);
    assert.match(
      (await page.locator('section:has(h2:text-is("Held-out loss while training"))').textContent()) ?? '',
      /No run of this group was trained to a budget/,
    );

    // Keyboard: focus the picker, open its list (arrow up), up once more to finetune, Enter picks it.
    await page.locator('vscode-single-select[data-action="group"]').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await rendered(page, () => page.keyboard.press('Enter'));
    const rows = await page
      .locator('.runs tbody tr[data-row]')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-row')));
    assert.deepEqual(
      rows,
      finetuneRuns().map((r) => r.id),
    );
    // Focus stays on the (redrawn) picker.
    await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.dataset.action === 'group');
    assert.equal(((await p.recorded()).state as { group: string }).group, data.groups[1].key, 'kept in setState');
    assert.deepEqual(await p.watch.violations(), []);
    assert.deepEqual(p.watch.errors, []);
    await page.close();
  });

  test('loss curves: every point is an eval of the record; the entropy floor dashed; seconds on request', async () => {
    const runs = pretrainRuns();
    const p = await dashboard(dashboardData(runs));
    const { page } = p;
    const loss = await chart(page, 'loss');
    assert.ok(loss, 'a loss chart');
    assert.equal(loss.type, 'line');
    assert.equal(loss.axes.y, 'Held-out loss (nats/token)');
    assert.equal(loss.axes.x, 'Tokens seen');
    const labels = dashboardData(runs).runs.map((r) => r.label);
    for (const [i, r] of runs.entries()) {
      const s: ChartSummary['series'][number] | undefined = loss.series.find((x) => x.label === labels[i]);
      assert.ok(s, `a line for ${labels[i]}`);
      assert.deepEqual(
        s.xy,
        (r.evals ?? []).map((e) => [e.tokens, e.valLoss]),
        `${labels[i]}: the record's evals`,
      );
    }
    const floor = loss.series.find((x) => x.label.startsWith('Data entropy (floor)'));
    assert.ok(floor);
    assert.ok(floor.xy.every(([, y]) => y === ENTROPY));
    assert.equal(loss.series.length, runs.length + 1);
    assert.match(
      (await page.locator('section:has(h2:text-is("Held-out loss while training")) p.muted').textContent()) ?? '',
      /floor no model can beat/,
    );

    await pick(page, 'loss-axis', 'seconds');
    const bySeconds = await chart(page, 'loss');
    const first = bySeconds?.series.find((x) => x.label === labels[0]);
    assert.deepEqual(
      first?.xy,
      (runs[0].evals ?? []).map((e) => [e.seconds, e.valLoss]),
    );
    assert.match(bySeconds?.axes.x ?? '', /^Wall time/);
    assert.deepEqual(p.watch.errors, []);
    await page.close();
  });

  test('quality columns, seeds as mean ± spread, perplexity on the Pareto axis', async () => {
    const runs = pretrainRuns();
    const data = dashboardData(runs);
    const p = await dashboard(data);
    const { page } = p;
    assert.deepEqual(
      await cellTexts(page, 'perplexity'),
      data.runs.map((r) => r.metrics.perplexity.text),
    );
    assert.deepEqual(await cellTexts(page, 'valLoss'), ['3.42', '3.46', '3.31', '3.33']);
    assert.deepEqual(await cellTexts(page, 'seed'), ['0', '1', '0', '1']);
    const seeds = page.locator('.repeats tbody tr');
    assert.equal(await seeds.count(), 2);
    const gqa = (await seeds.first().textContent()) ?? '';
    // 3.42 and 3.46: mean 3.44, sample s.d. 0.0283 (worked by hand).
    assert.match(gqa, /3\.44 ± 0\.0283/);
    assert.match(gqa, /0, 1/);

    const pareto = await chart(page, 'pareto');
    assert.match(pareto?.axes.y ?? '', /^Perplexity/, 'perplexity is the default y with a training budget');
    assert.match(pareto?.axes.x ?? '', /^Latency/);
    // Two configs, each one point at its seeds' means.
    const pts = (pareto?.series ?? []).flatMap((s) => s.xy);
    assert.equal(pts.length, 2);
    const mlaMean = (Math.exp(3.31) + Math.exp(3.33)) / 2;
    assert.ok(
      pts.some(([, y]) => Math.abs(y - mlaMean) < 1e-9),
      JSON.stringify(pts),
    );
    assert.ok(pts.every(([x, y]) => x > 0 && y > 0));

    await pick(page, 'pareto-y', 'peakMemoryBytes');
    assert.match((await chart(page, 'pareto'))?.axes.y ?? '', /^Peak memory/);
    assert.equal(((await p.recorded()).state as { paretoY: string }).paretoY, 'peakMemoryBytes');
    assert.deepEqual(p.watch.errors, []);
    await page.close();
  });

  test('fine-tuning: held-out loss before → after beside the loss', async () => {
    const p = await dashboard(dashboardData(finetuneRuns()));
    assert.deepEqual(await cellTexts(p.page, 'lossChange'), ['4.10 → 3.71', '4.10 → 3.66']);
    const loss = await chart(p.page, 'loss');
    assert.ok(loss?.series.some((s) => s.label.startsWith('Before fine-tuning') && s.xy.every(([, y]) => y === 4.1)));
    await p.page.close();
  });

  test('one run clicked: the real host opens its whole group with that run marked', async () => {
    const runs = stagedRuns();
    const clicked = runs[1];
    let page: Page | undefined;
    const controller = new DashboardController(
      [clicked.id],
      { runs: { list: async () => runs }, save: async () => null, openCompare: () => undefined },
      async (m) => {
        if (!page || page.isClosed()) return false;
        await page.evaluate((msg) => window.postMessage(msg, '*'), m);
        return true;
      },
      { info: () => undefined, warn: () => undefined, error: () => undefined },
    );
    const p = await pages.open('dashboard', {
      toHost: (m) => controller.dispatcher.receive(m),
      onPage: (pg) => (page = pg),
    });
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
    const rows = await p.page
      .locator('.runs tbody tr[data-row]')
      .evaluateAll((trs) => trs.map((t) => [t.getAttribute('data-row'), t.className]));
    assert.deepEqual(
      rows.map(([id]) => id),
      pretrainRuns().map((r) => r.id),
      'the pretrain group, not the newest (inference) one nor a page of one run',
    );
    assert.deepEqual(
      rows.filter(([, c]) => /\bfocused\b/.test(c ?? '')).map(([id]) => id),
      [clicked.id],
    );
    assert.match((await p.page.locator('.focus-note').textContent()) ?? '', new RegExp(clicked.id));
    assert.equal(await p.page.locator('vscode-single-select[data-action="group"]').count(), 0, 'one group: no picker');
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });

  test('sidebar: the latest sweep trained to a budget shows perplexity per run', async () => {
    const runs = pretrainRuns();
    const p = await pages.open('sidebar');
    await p.postedMoreThan(0);
    await p.fromHost(notification('sidebar', 'sidebar/data', sidebarData(runs)));
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'sidebar');
    const mini = await chart(p.page, 'mini-perplexity');
    assert.ok(mini, 'a perplexity headline');
    assert.deepEqual(
      mini.series[0].xy.map(([, y]) => y),
      runs.map((r) => r.metrics.perplexity),
    );
    assert.match(
      (await p.page.locator('main p.muted').first().textContent()) ?? '',
      /^pretrain · tiny · .*150k tokens of synthetic/,
    );
    assert.doesNotMatch((await p.page.locator('main p.muted').first().textContent()) ?? '', /newTokens/);
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });

  test('compare across stages: the differences block and a warning; no better or worse', async () => {
    const p = await pages.open('compare');
    await p.postedMoreThan(0);
    const data = compareData([pretrainRuns()[0], inferenceRuns()[0]]);
    await p.fromHost(notification('compare', 'compare/data', data));
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'compare');
    const warning = p.page.locator('.compare-warning');
    assert.equal(await warning.count(), 2);
    assert.equal(await warning.first().getAttribute('role'), 'alert');
    assert.match((await warning.first().textContent()) ?? '', /different stages \(pretrain, inference\)/);
    const stage = p.page.locator('.differences tr[data-field="Stage"]');
    assert.equal(await stage.getAttribute('class'), 'differs');
    assert.deepEqual(await stage.locator('td').allTextContents(), ['pretrain', 'inference']);
    assert.equal(await p.page.locator('.differences tr[data-field="Device"]').getAttribute('class'), 'same');
    assert.equal(await p.page.locator('.delta-better, .delta-worse').count(), 0, 'no verdicts across stages');
    const posted = (await p.recorded()) as Recorded;
    assert.equal(posted.posted.length, 1);
    assert.deepEqual(await p.watch.violations(), []);
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });
});
