// The launcher page alone in headless Chromium, inside a simulated VS Code webview. The test plays
// the host: it answers the page's preview and launch requests with src/views/launcherData.ts, the
// same functions the real host uses (host-pages.test.ts runs the real host controller instead).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { launcherInit, launcherPlan, launcherPreview, siteId, targetChoices } from '../../src/views/launcherData';
import type { LauncherEnv } from '../../src/views/launcherData';
import { responseError } from '../../src/core/webviewProtocol/envelope';
import { isPageToHost, notification, responseOk } from '../../src/core/webviewProtocol/panels';
import type { LauncherForm, LauncherInit } from '../../src/core/webviewProtocol/launcher';
import type { RequestMessage } from '../../src/core/webviewProtocol/panels';
import type { ModelSite } from '../../src/detect/site';
import { chromiumMissing } from './browser';
import { HOSTILE } from './fixtures';
import { LAUNCHER_SETTINGS, llamaAttentionSite } from './launcherFixtures';
import { pageSuite } from './webviewPage';
import type { WebviewPage } from './webviewPage';

const missing = chromiumMissing();

const ATTENTION_SITE = llamaAttentionSite({
  heads: 8,
  kvHeads: 2,
  hidden: 256,
  headDim: 32,
  evidence: ['q_proj', 'k_proj', 'repeat_kv'],
});
const MOE_SITE: ModelSite = {
  file: 'models/llama.py',
  line: 40,
  kind: 'moe',
  attention: null,
  name: 'SparseMoe',
  details: { experts: 4, topK: 2 },
};
const TARGETS = targetChoices([{ name: 'gpubox', kind: 'ssh', hosts: ['gpubox'] }]);

function init(
  sites: ModelSite[],
  seedSite: ModelSite | undefined,
  revision = 7,
  launchBlocked: string | null = null,
): LauncherInit {
  return launcherInit({
    sites,
    seed: seedSite ? { file: seedSite.file, line: seedSite.line, site: seedSite } : undefined,
    defaults: LAUNCHER_SETTINGS,
    targets: TARGETS,
    revision,
    launchBlocked,
  });
}

const envOf = (sites: ModelSite[]): LauncherEnv => ({ sites, targets: TARGETS.map((t) => t.value) });

type LauncherRequest = RequestMessage<'launcher'>;

describe('launcher page in a simulated VS Code webview', { skip: missing }, () => {
  const pages = pageSuite();

  /** Waits for the page's next request (after `seen` messages) and checks it against the protocol. */
  async function nextRequest(p: WebviewPage, seen: number): Promise<{ req: LauncherRequest; count: number }> {
    const posted = await p.postedMoreThan(seen);
    const last = posted[posted.length - 1];
    assert.ok(isPageToHost('launcher', last), `the host guard accepts ${JSON.stringify(last).slice(0, 300)}`);
    assert.equal((last as { kind: string }).kind, 'request');
    return { req: last as LauncherRequest, count: posted.length };
  }

  /** Answers a preview request the way the host does and waits for the size line to show it. */
  async function answerPreview(p: WebviewPage, req: LauncherRequest, env: LauncherEnv): Promise<void> {
    assert.equal(req.method, 'launcher/preview');
    const preview = launcherPreview((req.params as { form: LauncherForm }).form, env);
    await p.fromHost(
      responseOk<'launcher', 'launcher/preview'>(req as { id: number; method: 'launcher/preview' }, preview),
    );
    const want = preview.sweepSize === null ? '' : String(preview.sweepSize);
    await p.page.waitForFunction(
      (w) =>
        document.querySelector('.sweep-size')?.getAttribute('data-size') === w &&
        document.querySelector('.sweep-size')?.getAttribute('aria-busy') === 'false',
      want,
    );
  }

  test('ready first; renders the seed; ticking a box updates the sweep size; Launch posts the form', async () => {
    const sites = [ATTENTION_SITE, MOE_SITE];
    const env = envOf(sites);
    const p = await pages.open('launcher');
    const first = await p.postedMoreThan(0);
    assert.deepEqual(
      first,
      [{ kind: 'ready', panel: 'launcher', protocol: 1 }],
      'ready and nothing else before the host answers',
    );
    assert.equal(await p.page.locator('#app').getAttribute('aria-busy'), 'true');

    // A malformed init and another panel's data are ignored.
    await p.fromHost({ kind: 'notification', method: 'launcher/init', params: { revision: 'x' } });
    await p.fromHost({ kind: 'notification', method: 'dashboard/data', params: {} });
    assert.equal(await p.page.locator('#app').getAttribute('aria-busy'), 'true');

    const data = init(sites, ATTENTION_SITE);
    await p.fromHost(notification('launcher', 'launcher/init', data));
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'launcher');
    let { req, count } = await nextRequest(p, 1);
    assert.deepEqual(
      (req.params as { form: LauncherForm }).form,
      data.form,
      'the first preview asks about the seeded form',
    );

    // The seed: its site is the model, its attention kind and KV heads are in the sweep.
    assert.equal(await p.page.locator('.seed-note').textContent(), 'From models/llama.py:12 · LlamaAttention');
    const source = await p.page
      .locator('vscode-single-select[data-field="source"]')
      .evaluate((e) => (e as HTMLElement & { value: string }).value);
    assert.equal(source, `site:${siteId(ATTENTION_SITE)}`);
    assert.match((await p.page.locator('.site-detail').textContent()) ?? '', /heads 8, KV heads 2/);
    assert.equal(await p.page.locator('input[data-field="attention"][value="gqa"]').isChecked(), true);
    assert.equal(await p.page.locator('input[data-field="attention"][value="mla"]').isChecked(), false);
    assert.equal(await p.page.locator('input[data-field="kvHeads"]').inputValue(), '2');
    assert.equal(
      await p.page.locator('input[data-field="mla.kvRank"]').isVisible(),
      false,
      'MLA options only when MLA is ticked',
    );
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.sweep-size').textContent(), 'Sweep: 3 configs');
    assert.deepEqual(await p.page.locator('table.launcher-configs tbody th').allTextContents(), [
      'LlamaAttention shape · GQA-2 · fp32 · inference',
      'LlamaAttention shape · MHA · fp32 · inference',
      'LlamaAttention shape · MQA · fp32 · inference',
    ]);
    assert.match(
      (await p.page.locator('table.launcher-configs thead').textContent()) ?? '',
      /Parameters.*Weights.*KV cache \/ 1k tokens/,
    );

    // Ticking MLA: one more config, and its options appear.
    await p.page.locator('input[data-field="attention"][value="mla"]').check();
    ({ req, count } = await nextRequest(p, count));
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.sweep-size').textContent(), 'Sweep: 4 configs');
    assert.equal(await p.page.locator('input[data-field="mla.kvRank"]').isVisible(), true);

    // Keyboard: Space on a focused checkbox ticks fp16, doubling the sweep.
    await p.page.locator('input[data-field="precision"][value="fp16"]').focus();
    await p.page.keyboard.press('Space');
    ({ req, count } = await nextRequest(p, count));
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.sweep-size').textContent(), 'Sweep: 8 configs');

    // A bad KV-head count: the error sits on its field, names it, and Launch is off.
    await p.page.locator('input[data-field="kvHeads"]').fill('3');
    ({ req, count } = await nextRequest(p, count));
    await answerPreview(p, req, env);
    const kv = p.page.locator('input[data-field="kvHeads"]');
    assert.equal(await kv.getAttribute('aria-invalid'), 'true');
    const errorId = (await kv.getAttribute('aria-describedby')) as string;
    assert.match(
      (await p.page.locator(`[id="${errorId}"]`).textContent()) ?? '',
      /3 does not divide the 8 query heads; use one of 1, 2, 4, 8/,
    );
    assert.match((await p.page.locator('.error-list').textContent()) ?? '', /^KV heads: 3 does not divide/);
    assert.equal(await p.page.locator('vscode-button[data-action="launch"]').getAttribute('disabled'), '');
    await p.page.locator('.error-list button[data-field="kvHeads"]').click();
    assert.equal(
      await p.page.evaluate(() => document.activeElement?.getAttribute('data-field')),
      'kvHeads',
      'the error list jumps to the field',
    );

    await kv.fill('2, 4');
    ({ req, count } = await nextRequest(p, count));
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.sweep-size').textContent(), 'Sweep: 10 configs');
    assert.equal(await kv.getAttribute('aria-invalid'), null);
    assert.equal(await p.page.locator('vscode-button[data-action="launch"]').getAttribute('disabled'), null);

    // Launch (by keyboard): a request carrying the form; the host's plan of it is the sweep shown.
    await p.page.locator('vscode-button[data-action="launch"]').focus();
    await p.page.keyboard.press('Enter');
    ({ req } = await nextRequest(p, count));
    assert.equal(req.method, 'launcher/launch');
    const form = (req.params as { form: LauncherForm }).form;
    const plan = launcherPlan(form, env);
    assert.ok(plan.ok);
    assert.equal(plan.configs.length, 10);
    assert.deepEqual(
      plan.configs.map((c) => c.label).filter((l) => l.includes('GQA')),
      [
        'LlamaAttention shape · GQA-2 · fp32 · inference',
        'LlamaAttention shape · GQA-4 · fp32 · inference',
        'LlamaAttention shape · GQA-2 · fp16 · inference',
        'LlamaAttention shape · GQA-4 · fp16 · inference',
      ],
    );
    assert.ok(
      plan.configs.every(
        (c) => c.model.source === 'synthetic' && c.model.shape.heads === 8 && c.model.shape.hidden === 256,
      ),
    );
    assert.equal(await p.page.locator('.status').textContent(), 'Launching 10 configs…');
    await p.fromHost(
      responseOk<'launcher', 'launcher/launch'>(req as { id: number; method: 'launcher/launch' }, {
        launched: 10,
        target: 'local',
      }),
    );
    await p.page.waitForFunction(
      () => document.querySelector('.status')?.textContent === 'Launched 10 configs on local.',
    );
    await p.fromHost(
      notification('launcher', 'launcher/launchResult', {
        ok: false,
        message: 'The sweep of 10 configs on local failed: harness exited 1',
      }),
    );
    await p.page.waitForFunction(() => document.querySelector('.status')?.classList.contains('problem') === true);

    // The form is kept with setState, tagged with the init's revision.
    const state = (await p.recorded()).state as { form: LauncherForm; revision: number };
    assert.equal(state.revision, 7);
    assert.deepEqual(state.form, form);
    assert.deepEqual(await p.watch.violations(), [], 'the nonce script and the cspSource styles load under the CSP');
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });

  test('a misspelt field in efficientllm.defaultSweep is named with the nearest field; Launch stays off', async () => {
    const defaults = { ...LAUNCHER_SETTINGS, seqlen: 512 };
    const env: LauncherEnv = { ...envOf([]), defaults };
    const p = await pages.open('launcher');
    await p.postedMoreThan(0);
    const data = launcherInit({ sites: [], defaults, targets: TARGETS, revision: 3, launchBlocked: null });
    await p.fromHost(notification('launcher', 'launcher/init', data));
    await p.page.waitForFunction(() => document.documentElement.dataset.rendered === 'launcher');
    const { req } = await nextRequest(p, 1);
    await answerPreview(p, req, env);
    const said = /efficientllm\.defaultSweep\.seqlen: unknown field; did you mean efficientllm\.defaultSweep\.seqLen\?/;
    assert.match((await p.page.locator('.error-list').textContent()) ?? '', said);
    assert.equal(await p.page.locator('vscode-button[data-action="launch"]').getAttribute('disabled'), '');
    // The host re-checks what it would launch: the same form is refused there, naming the setting.
    const plan = launcherPlan((req.params as { form: LauncherForm }).form, env);
    assert.ok(!plan.ok);
    assert.ok(plan.errors.some((e) => e.field === 'sweep' && said.test(e.message)));
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });

  test('a refused launch shows the host’s reason; a blocked launcher says why', async () => {
    const env = envOf([]);
    const p = await pages.open('launcher');
    await p.postedMoreThan(0);
    await p.fromHost(notification('launcher', 'launcher/init', init([], undefined, 1)));
    let { req, count } = await nextRequest(p, 1);
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.seed-note').count(), 0);
    assert.equal(
      await p.page
        .locator('vscode-single-select[data-field="source"]')
        .evaluate((e) => (e as HTMLElement & { value: string }).value),
      'preset',
    );
    await p.page.locator('vscode-button[data-action="launch"]').click();
    ({ req, count } = await nextRequest(p, count));
    await p.fromHost(responseError(req, 'the workspace is not trusted; nothing was launched'));
    await p.page.waitForFunction(
      () =>
        document.querySelector('.status')?.textContent ===
        'Not launched: the workspace is not trusted; nothing was launched',
    );

    // A new init that blocks launching (untrusted): the reason is shown and Launch stays off.
    await p.fromHost(
      notification('launcher', 'launcher/init', init([], undefined, 1, 'This workspace is not trusted.')),
    );
    ({ req } = await nextRequest(p, count));
    await answerPreview(p, req, env);
    assert.equal(await p.page.locator('.launch-blocked').textContent(), 'This workspace is not trusted.');
    assert.equal(await p.page.locator('vscode-button[data-action="launch"]').getAttribute('disabled'), '');
    await p.page.close();
  });

  test('a restored page keeps its form for the same revision and takes the new seed’s form for another', async () => {
    const sites = [ATTENTION_SITE];
    const data = init(sites, ATTENTION_SITE, 42);
    const saved: LauncherForm = {
      ...structuredClone(data.form),
      precision: ['bf16', 'int8'],
      workload: { ...data.form.workload, batch: '1, 8' },
    };
    const p = await pages.open('launcher', { initialState: { form: saved, revision: 42 } });
    await p.postedMoreThan(0);
    await p.fromHost(notification('launcher', 'launcher/init', data));
    const first = await nextRequest(p, 1);
    const count = first.count;
    let req = first.req;
    assert.deepEqual((req.params as { form: LauncherForm }).form, saved);
    await answerPreview(p, req, envOf(sites));
    assert.equal(await p.page.locator('input[data-field="precision"][value="int8"]').isChecked(), true);
    assert.equal(await p.page.locator('input[data-field="workload.batch"]').inputValue(), '1, 8');
    assert.equal(await p.page.locator('.sweep-size').textContent(), 'Sweep: 12 configs');

    await p.fromHost(notification('launcher', 'launcher/init', init(sites, ATTENTION_SITE, 43)));
    ({ req } = await nextRequest(p, count));
    assert.deepEqual((req.params as { form: LauncherForm }).form, init(sites, ATTENTION_SITE, 43).form);
    assert.equal(await p.page.locator('input[data-field="precision"][value="int8"]').isChecked(), false);
    await p.page.close();
  });

  test('hostile site names, paths and checkpoints render as text and never run', async () => {
    const hostile: ModelSite = {
      file: `${HOSTILE.svg}/model.py`,
      line: 3,
      kind: 'load',
      attention: null,
      name: HOSTILE.img,
      details: { model: HOSTILE.script },
    };
    const plain: ModelSite = { ...ATTENTION_SITE, name: HOSTILE.comment };
    const sites = [hostile, plain];
    const env = envOf(sites);
    const data = init(sites, hostile);
    const p = await pages.open('launcher');
    await p.postedMoreThan(0);
    await p.fromHost(notification('launcher', 'launcher/init', data));
    const { req } = await nextRequest(p, 1);
    await answerPreview(p, req, env);

    assert.equal(await p.page.locator('.seed-note').textContent(), `From ${HOSTILE.svg}/model.py:3 · ${HOSTILE.img}`);
    const options = await p.page.locator('vscode-single-select[data-field="source"] vscode-option').allTextContents();
    assert.deepEqual(
      options.slice(1),
      data.sites.map((s) => s.text),
    );
    assert.ok(options[1].includes(HOSTILE.img) && options[2].includes(HOSTILE.comment));
    assert.equal(await p.page.locator('.site-detail').textContent(), `checkpoint ${HOSTILE.script}`);
    const labels = await p.page.locator('table.launcher-configs tbody th').allTextContents();
    assert.ok(
      // A checkpoint's configs are named by its last path segment, as text.
      labels.length > 0 && labels.every((l) => l.startsWith(`${HOSTILE.script.split('/').pop() ?? ''} · `)),
      labels.join(' | '),
    );
    assert.match((await p.page.locator('.notes').textContent()) ?? '', /<\/script><script>/);
    assert.equal(
      await p.page.evaluate(() => document.querySelectorAll('img, svg, script:not([src])').length),
      0,
      'no element was made from the text',
    );
    assert.equal(await p.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    assert.deepEqual(await p.watch.violations(), []);
    assert.deepEqual(p.watch.errors, []);
    await p.page.close();
  });
});
