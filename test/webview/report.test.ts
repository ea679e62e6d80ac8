// The static report (`efficientllm report --html`) in headless Chromium: it draws its charts, shows
// hostile remote text as text without running it, and its table sorts from the keyboard.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { reportCommand } from '../../src/cli/report';
import type { CliIo } from '../../src/cli/io';
import type { RunRecord } from '../../src/core/record';
import { RunStore } from '../../src/run/store';
import { chromiumMissing, inkedPixels, launch, watch } from './browser';
import type { Browser } from './browser';
import { ensureBundle } from './bundle';
import { HOSTILE, hostileSweep, sweep } from './fixtures';

const missing = chromiumMissing();

describe('static report in Chromium', { skip: missing }, () => {
  let browser: Browser;
  let dir: string;

  before(async () => {
    await ensureBundle();
    dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-report-'));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Stores `runs`, runs `efficientllm report --html` on them, returns the file. */
  async function writeReport(name: string, runs: RunRecord[], extra: string[] = []): Promise<string> {
    const storeDir = path.join(dir, `${name}-store`);
    const store = new RunStore(storeDir);
    for (const r of runs) await store.save(r);
    const err: string[] = [];
    const io: CliIo = { out: () => undefined, err: (t) => void err.push(t), isTTY: false, cwd: dir, env: {} };
    const file = `${name}.html`;
    const code = await reportCommand(['--html', file, '--store', storeDir, ...extra], io);
    assert.equal(code, 0, err.join(''));
    return path.join(dir, file);
  }

  async function open(file: string): Promise<{ page: Page; w: Awaited<ReturnType<typeof watch>> }> {
    const page = await browser.context.newPage();
    const w = await watch(page);
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => document.documentElement.dataset.rendered === 'dashboard', undefined, {
      timeout: 10_000,
    });
    return { page, w };
  }

  test('renders its charts: chart.js instances with data and inked canvases', async () => {
    const file = await writeReport('plain', sweep());
    const { page, w } = await open(file);
    const charts = await page.evaluate(() => (window.efficientllmCharts ? window.efficientllmCharts() : []));
    const byName = new Map(charts.map((c) => [c.name, c]));
    for (const name of ['bars', 'pareto', 'samples', 'roofline']) {
      assert.ok(byName.has(name), `chart ${name} exists (have ${[...byName.keys()].join(', ')})`);
      assert.ok((byName.get(name)?.points ?? 0) > 0, `chart ${name} has data points`);
    }
    assert.equal(byName.get('bars')?.points, 5, 'one bar per run (the failed run as a gap)');
    assert.equal(byName.get('samples')?.points, 120, 'memory, utilisation and power, 40 samples each');
    const ink = await inkedPixels(page);
    for (const id of ['chart-bars', 'chart-pareto', 'chart-samples', 'chart-roofline']) {
      assert.ok((ink[id] ?? 0) > 1500, `${id} has drawn pixels (${ink[id]})`);
    }
    // The recommendation is the run on the front nearest the ideal: MQA here (fastest, least memory).
    assert.equal(await page.locator('.recommendation .rec-label').first().textContent(), 'MQA bf16');
    assert.match((await page.locator('.rec-reason').first().textContent()) ?? '', /MQA bf16: .* — runs /);
    assert.deepEqual(await w.violations(), []);
    assert.deepEqual(w.errors, []);
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    await page.close();
  });

  test('hostile run labels, device names, targets and errors stay text and never run', async () => {
    const file = await writeReport('hostile', hostileSweep(), ['--title', `Report ${HOSTILE.script}`]);
    const html = await readFile(file, 'utf8');
    // Inlined data cannot close its element or open a comment: every `<` is \u003c in the JSON.
    const json = /<script type="application\/json" id="efficientllm-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(json, 'the data element is there and ends where it should');
    assert.ok(!json[1].includes('<'), 'no raw < inside the inlined JSON');
    assert.ok(!html.includes('<img src=x'), 'no hostile markup anywhere in the file');
    assert.ok(html.includes('<title>Report &lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;</title>'));

    const { page, w } = await open(file);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    // Nothing hostile became an element.
    // (document.querySelectorAll: the page's own DOM, not the shadow roots of @vscode-elements, whose icons are SVG.)
    const made = await page.evaluate(
      () =>
        document.querySelectorAll('#app img, #app svg, #app iframe, #app a, #app script, #app object, #app embed')
          .length,
    );
    assert.equal(made, 0);
    assert.equal(await page.locator('h1').textContent(), `Report ${HOSTILE.script}`);
    const device = await page.locator('tbody tr').first().locator('td').nth(1).textContent();
    assert.equal(device, HOSTILE.img);
    const target = await page.locator('tbody tr').first().locator('td').nth(2).textContent();
    assert.equal(target, `ssh:${HOSTILE.svg}`);
    const configLabels = await page.locator('.config-label').allTextContents();
    assert.ok(
      configLabels.some((t) => t.includes(HOSTILE.script) && t.includes(HOSTILE.js)),
      configLabels.join(' | '),
    );
    await page.locator('details.run-error summary').first().click();
    assert.equal(await page.locator('.error-message-full').first().textContent(), `${HOSTILE.script}\n${HOSTILE.img}`);
    assert.equal(
      await page.locator('pre.stderr').first().textContent(),
      `${HOSTILE.comment}\n${HOSTILE.svg}\n${HOSTILE.js}`,
    );
    // Hovering every chart shows tooltips drawn on the canvas (text, not DOM).
    await page.locator('#chart-bars').hover({ position: { x: 200, y: 200 } });
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    assert.deepEqual(await w.violations(), [], 'no CSP violation: nothing tried to run or load');
    assert.deepEqual(w.errors, []);
    await page.close();
  });

  test('the table sorts with Enter on a header, and says so with aria-sort', async () => {
    const file = await writeReport('keyboard', sweep());
    const { page } = await open(file);
    const header = page.locator('th:has(button.sort[data-key="latencyS"])');
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    await page.locator('button.sort[data-key="latencyS"]').focus();
    await page.keyboard.press('Enter');
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    // Focus stays on the header that was used.
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.key), 'latencyS');
    const firstLabels = async (): Promise<string[]> => page.locator('tbody tr .run-label').allTextContents();
    assert.deepEqual(await firstLabels(), ['MQA bf16', 'GQA-2 bf16', 'GQA-2 fp16', 'MHA bf16', 'MHA fp32']);
    await page.keyboard.press('Enter');
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    // Missing values (the failed run) stay last both ways.
    assert.deepEqual(await firstLabels(), ['MHA bf16', 'GQA-2 fp16', 'GQA-2 bf16', 'MQA bf16', 'MHA fp32']);
    // Space works too, and Tab reaches the next header.
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.key);
    assert.equal(next, 'ttftS');
    await page.keyboard.press('Space');
    assert.equal(await page.locator('th:has(button.sort[data-key="ttftS"])').getAttribute('aria-sort'), 'ascending');
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    await page.close();
  });

  test('exports download from the page itself (Blob), and a chart saves as PNG', async () => {
    const file = await writeReport('exports', sweep());
    const { page } = await open(file);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('vscode-button[data-action="export-csv"]').click(),
    ]);
    assert.equal(csv.suggestedFilename(), 'efficientllm-runs.csv');
    const text = await readFile(await csv.path(), 'utf8');
    assert.match(text, /^id,createdAt,status,/);
    assert.equal(text.trim().split('\r\n').length, 6);
    const [png] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('vscode-button[data-action="png-pareto"]').click(),
    ]);
    assert.equal(png.suggestedFilename(), 'efficientllm-pareto.png');
    const bytes = await readFile(await png.path());
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    await page.close();
  });
});
