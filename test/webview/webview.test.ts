// The pages inside a simulated VS Code webview: the same HTML shell the extension host serves (CSP
// with a nonce, script and CSS by URI from `cspSource`), a stub acquireVsCodeApi that records what
// the page posts, and the host's messages delivered as `message` events, as VS Code does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { compareData, dashboardData, sidebarData } from '../../src/views/webviewData';
import { isPageToHost, notification, responseOk } from '../../src/core/webviewProtocol/panels';
import type { PanelKind } from '../../src/core/webviewProtocol/panels';
import { chromiumMissing, inkedPixels } from './browser';
import type { PageWatch } from './browser';
import { HOSTILE, hostileSweep, sweep } from './fixtures';
import { fromHost, pageSuite, recorded } from './webviewPage';
import type { Recorded } from './webviewPage';

const missing = chromiumMissing();

describe('pages in a simulated VS Code webview', { skip: missing }, () => {
  const pages = pageSuite();

  /** Opens `panel` the way a webview host would, with `initialState` as getState()'s answer. */
  async function openPanel(panel: PanelKind, initialState: unknown = undefined): Promise<{ page: Page; w: PageWatch }> {
    const p = await pages.open(panel, { initialState });
    return { page: p.page, w: p.watch };
  }

  test('dashboard: ready first, data by message renders charts, requests carry ids and get answers', async () => {
    const { page, w } = await openPanel('dashboard');
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
    let rec = await recorded(page);
    assert.deepEqual(rec.posted[0], { kind: 'ready', panel: 'dashboard', protocol: 1 });
    assert.equal(rec.posted.length, 1, 'nothing but ready before the data');
    assert.ok(isPageToHost('dashboard', rec.posted[0]), 'the host guard accepts it');
    assert.equal(await page.locator('#app').getAttribute('aria-busy'), 'true', 'waiting for data');

    // A malformed message and a message for another panel are ignored.
    await fromHost(page, { kind: 'notification', method: 'dashboard/data', params: { title: 1 } });
    await fromHost(page, notification('sidebar', 'sidebar/data', sidebarData(sweep())));
    assert.equal(await page.locator('#app').getAttribute('aria-busy'), 'true');

    const data = dashboardData(sweep());
    await fromHost(page, notification('dashboard', 'dashboard/data', data));
    await page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
    const charts = await page.evaluate(() => window.efficientllmCharts?.() ?? []);
    assert.deepEqual(charts.map((c) => c.name).sort(), ['bars', 'pareto', 'roofline', 'samples']);
    const ink = await inkedPixels(page);
    assert.ok((ink['chart-pareto'] ?? 0) > 1500, `pareto drawn (${ink['chart-pareto']})`);
    rec = await recorded(page);
    assert.deepEqual(
      (rec.state as { runIds: string[] }).runIds,
      data.runs.map((r) => r.id),
      'setState keeps the runs for the serializer',
    );

    // Export: a request with an id; the page shows the host's answer.
    await page.locator('vscode-button[data-action="export-md"]').click();
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 1);
    rec = await recorded(page);
    const req = rec.posted[1];
    assert.ok(isPageToHost('dashboard', req), JSON.stringify(req));
    assert.equal(req.kind, 'request');
    assert.ok(req.kind === 'request' && req.method === 'dashboard/export');
    assert.deepEqual(req.params, { format: 'md', runIds: data.runs.map((r) => r.id) });
    await fromHost(page, responseOk<'dashboard', 'dashboard/export'>(req, { savedTo: '/work/space/runs.md' }));
    await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'Saved /work/space/runs.md');

    // PNG: a request carrying the chart as a PNG data: URL; an error answer is shown, not thrown.
    await page.locator('vscode-button[data-action="png-bars"]').click();
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 2);
    rec = await recorded(page);
    const png = rec.posted[2];
    assert.ok(isPageToHost('dashboard', png) && png.kind === 'request' && png.method === 'dashboard/savePng');
    assert.ok(png.id !== req.id, 'each request has its own id');
    await fromHost(page, { kind: 'response', id: png.id, ok: false, error: 'disk full' });
    await page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Saving the chart failed: disk full',
    );

    // Compare: tick two runs, press the button: a command.
    const boxes = page.locator('tbody input[type="checkbox"]');
    await boxes.nth(0).check();
    await boxes.nth(2).check();
    await page.locator('vscode-button[data-action="compare"]').click();
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 3);
    rec = await recorded(page);
    assert.deepEqual(rec.posted[3], {
      kind: 'command',
      method: 'dashboard/compare',
      params: { runIds: [data.runs[0].id, data.runs[2].id] },
    });
    assert.deepEqual(await w.violations(), [], 'the nonce script and the cspSource styles load under the CSP');
    assert.deepEqual(w.errors, []);
    await page.close();
  });

  test('dashboard: state from getState (restored panel) picks the metric and sort', async () => {
    const { page } = await openPanel('dashboard', {
      metric: 'peakMemoryBytes',
      sort: { key: 'tokensPerS', dir: 'descending' },
    });
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
    await fromHost(page, notification('dashboard', 'dashboard/data', dashboardData(sweep())));
    await page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard');
    assert.equal(
      await page.locator('th:has(button.sort[data-key="tokensPerS"])').getAttribute('aria-sort'),
      'descending',
    );
    const yTitle = await page.evaluate(() => window.efficientllmCharts?.().find((c) => c.name === 'bars')?.points);
    assert.equal(yTitle, 5);
    assert.equal(
      await page
        .locator('vscode-single-select')
        .first()
        .evaluate((e) => (e as HTMLElement & { value: string }).value),
      'peakMemoryBytes',
    );
    await page.close();
  });

  test('compare: deltas against the baseline, better and worse in words', async () => {
    const { page, w } = await openPanel('compare');
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
    assert.deepEqual((await recorded(page)).posted[0], { kind: 'ready', panel: 'compare', protocol: 1 });
    const runs = hostileSweep().slice(0, 3);
    await fromHost(page, notification('compare', 'compare/data', compareData(runs)));
    await page.waitForFunction(() => document.documentElement.dataset.rendered === 'compare');
    // Baseline MHA (45.2 ms); GQA-2 is 39.8 ms: faster, so better, with the numbers.
    const latency = page.locator('tr[data-metric="latencyS"] td').nth(1);
    assert.match((await latency.textContent()) ?? '', /39\.8 ms−5\.40 ms \(−11\.9%\) ▲ better/);
    assert.equal(await page.locator('tr[data-metric="latencyS"] td .delta-better').count(), 2);
    const power = page.locator('tr[data-metric="powerW"] td').nth(1);
    assert.match((await power.textContent()) ?? '', /better/);
    // Device names are text here too.
    assert.equal(await page.locator('table.compare tbody tr').nth(1).locator('td').first().textContent(), HOSTILE.img);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    assert.deepEqual(await w.violations(), []);
    assert.deepEqual(w.errors, []);
    await page.close();
  });

  test('sidebar: headline charts and the recommendation; one click to the dashboard', async () => {
    const { page, w } = await openPanel('sidebar');
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 0);
    const runs = sweep();
    await fromHost(page, notification('sidebar', 'sidebar/data', sidebarData(runs)));
    await page.waitForFunction(() => document.documentElement.dataset.rendered === 'sidebar');
    assert.equal(await page.locator('.rec-label').textContent(), 'MQA bf16');
    const charts = await page.evaluate(() => window.efficientllmCharts?.() ?? []);
    assert.equal(charts.length, 4);
    await page.locator('vscode-button[data-action="open-dashboard"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.length > 1);
    const posted = (await recorded(page)).posted[1];
    assert.ok(isPageToHost('sidebar', posted));
    assert.equal((posted as { method: string }).method, 'sidebar/openDashboard');
    assert.deepEqual(await w.violations(), []);
    await page.close();
  });
});
