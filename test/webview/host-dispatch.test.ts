// The host's message dispatch and the panels' controllers, without VS Code or a browser: fake
// posts, a fake run source, a fake save dialog and launch function (src/vscode/panels/* that do not
// import `vscode`).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toCsv } from '../../src/core/export';
import { launcherInit, launcherPlan, launcherPreview, siteId, targetChoices } from '../../src/views/launcherData';
import type { ModelSite } from '../../src/detect/site';
import type { ProfileConfig } from '../../src/core/config';
import type { RunRecord } from '../../src/core/record';
import { compareData, dashboardData, sidebarData } from '../../src/views/webviewData';
import { readyMessage } from '../../src/core/webviewProtocol/envelope';
import type { LauncherForm, LauncherInit, LauncherPreview } from '../../src/core/webviewProtocol/launcher';
import type { HostToPage, PanelKind } from '../../src/core/webviewProtocol/panels';
import { describeMessage, PanelDispatcher } from '../../src/vscode/panels/dispatch';
import { LauncherController } from '../../src/vscode/panels/launcherController';
import type { LauncherDeps } from '../../src/vscode/panels/launcherController';
import {
  chartFileName,
  CompareController,
  DashboardController,
  decodePngDataUrl,
  runIdsFromState,
  selectRuns,
  SidebarController,
} from '../../src/vscode/panels/resultsControllers';
import type { SaveRequest } from '../../src/vscode/panels/resultsControllers';
import { sweep } from './fixtures';

function fakeLog() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => void lines.push(`info ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
    debug: (m: string) => void lines.push(`debug ${m}`),
  };
}

/** A post function that records clones of what the host sends (what postMessage delivers). */
function outbox<P extends PanelKind>() {
  const sent: HostToPage<P>[] = [];
  let delivered = true;
  return {
    sent,
    setDelivered(v: boolean) {
      delivered = v;
    },
    post: async (m: HostToPage<P>): Promise<boolean> => {
      if (delivered) sent.push(JSON.parse(JSON.stringify(m)) as HostToPage<P>);
      return delivered;
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** A 1×1 PNG. */
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('PanelDispatcher', () => {
  test('messages outside the protocol are logged and ignored', async () => {
    const log = fakeLog();
    const box = outbox<'dashboard'>();
    let calls = 0;
    const d = new PanelDispatcher(
      'dashboard',
      box.post,
      {
        ready: () => void calls++,
        commands: { 'dashboard/compare': () => void calls++, 'dashboard/selectRun': () => void calls++ },
        requests: {
          'dashboard/export': async () => (calls++, { savedTo: null }),
          'dashboard/savePng': async () => (calls++, { savedTo: null }),
          'dashboard/refresh': async () => dashboardData([]),
        },
      },
      log,
    );
    for (const bad of [
      null,
      'ready',
      { kind: 'ready', panel: 'compare', protocol: 1 },
      { kind: 'ready', panel: 'dashboard', protocol: 2 },
      { kind: 'command', method: 'dashboard/compare', params: { runIds: 'x' } },
      { kind: 'command', method: 'compare/openDashboard', params: { runIds: [] } },
      { kind: 'request', id: -1, method: 'dashboard/refresh', params: {} },
      {
        kind: 'request',
        id: 1,
        method: 'dashboard/savePng',
        params: { chart: 'bars', dataUrl: 'javascript:alert(1)' },
      },
      { kind: 'request', id: 2, method: 'constructor', params: {} },
    ]) {
      await d.receive(bad);
    }
    assert.equal(calls, 0);
    assert.equal(box.sent.length, 0, 'no answer to a malformed request');
    assert.equal(d.ready, false);
    assert.equal(log.lines.filter((l) => l.startsWith('warn dashboard panel: ignored a message')).length, 9);
    assert.equal(describeMessage({ a: 'x'.repeat(500) }).length, 201);
  });

  test('nothing is posted before ready; every ready gets data; pageGone stops notifications', async () => {
    const box = outbox<'sidebar'>();
    let readies = 0;
    const d: PanelDispatcher<'sidebar'> = new PanelDispatcher(
      'sidebar',
      box.post,
      {
        ready: async () => {
          readies++;
          await d.notify('sidebar/data', sidebarData([]));
        },
        commands: { 'sidebar/openDashboard': () => undefined },
        requests: {},
      },
      fakeLog(),
    );
    assert.equal(await d.notify('sidebar/data', sidebarData([])), false, 'not before ready');
    assert.equal(box.sent.length, 0);
    await d.receive(readyMessage('sidebar'));
    assert.equal(readies, 1);
    assert.deepEqual(
      box.sent.map((m) => m.kind === 'notification' && m.method),
      ['sidebar/data'],
    );
    d.pageGone();
    assert.equal(await d.notify('sidebar/data', sidebarData([])), false);
    await d.receive(readyMessage('sidebar'));
    assert.equal(readies, 2, 'a reloaded page gets its data again');
    assert.equal(box.sent.length, 2);
    box.setDelivered(false);
    assert.equal(await d.notify('sidebar/data', sidebarData([])), false);
    assert.equal(d.ready, false, 'an undelivered post means the page is gone');
  });

  test('each request is answered once with its own id, results and errors alike, in any order', async () => {
    const log = fakeLog();
    const box = outbox<'dashboard'>();
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const d = new PanelDispatcher(
      'dashboard',
      box.post,
      {
        ready: () => undefined,
        commands: {
          'dashboard/compare': () => {
            throw new Error('no compare today');
          },
          'dashboard/selectRun': () => undefined,
        },
        requests: {
          'dashboard/export': async (p) => {
            await slow;
            return { savedTo: `/tmp/runs.${p.format}` };
          },
          'dashboard/savePng': async () => {
            throw new Error('disk full');
          },
          'dashboard/refresh': async () => dashboardData([]),
        },
      },
      log,
    );
    const first = d.receive({
      kind: 'request',
      id: 7,
      method: 'dashboard/export',
      params: { format: 'csv', runIds: [] },
    });
    await d.receive({
      kind: 'request',
      id: 8,
      method: 'dashboard/savePng',
      params: { chart: 'bars', dataUrl: `data:image/png;base64,${PNG_1x1}` },
    });
    release();
    await first;
    assert.deepEqual(box.sent, [
      { kind: 'response', id: 8, ok: false, error: 'disk full' },
      { kind: 'response', id: 7, ok: true, result: { savedTo: '/tmp/runs.csv' } },
    ]);
    await d.receive({ kind: 'command', method: 'dashboard/compare', params: { runIds: ['a', 'b'] } });
    assert.equal(box.sent.length, 2, 'commands get no answer, even when they fail');
    assert.ok(log.lines.some((l) => l === 'error dashboard panel: dashboard/compare failed: no compare today'));
    assert.ok(log.lines.some((l) => l.includes('dashboard/savePng (request 8) failed: disk full')));
  });
});

describe('results controllers', () => {
  const runs = sweep();
  const source = { list: async () => [...runs].reverse() };

  test('dashboard: data of its runs on ready, a new set on setRunIds, compare opens Compare', async () => {
    const box = outbox<'dashboard'>();
    const compared: string[][] = [];
    const ids = [runs[1].id, runs[2].id];
    const c = new DashboardController(
      ids,
      { runs: source, save: async () => null, openCompare: (x) => void compared.push(x) },
      box.post,
      fakeLog(),
    );
    await c.push();
    assert.equal(box.sent.length, 0, 'nothing before ready');
    await c.dispatcher.receive(readyMessage('dashboard'));
    const first = box.sent[0];
    assert.ok(first.kind === 'notification' && first.method === 'dashboard/data');
    assert.deepEqual(
      first.params.runs.map((r) => r.id),
      ids,
    );
    await c.setRunIds([]);
    const all = box.sent[1];
    assert.ok(all.kind === 'notification' && all.method === 'dashboard/data');
    assert.deepEqual(
      all.params.runs.map((r) => r.id),
      runs.map((r) => r.id),
      'no ids: every run, in sweep order',
    );
    await c.dispatcher.receive({ kind: 'command', method: 'dashboard/compare', params: { runIds: ids } });
    assert.deepEqual(compared, [ids]);
    assert.deepEqual((await c.data()).runs.length, runs.length);
  });

  test('dashboard: exports and PNGs go through the save dialog; bad images are refused', async () => {
    const box = outbox<'dashboard'>();
    const saves: SaveRequest[] = [];
    let answer: string | null = '/work/space/runs.csv';
    const c = new DashboardController(
      [],
      { runs: source, save: async (r) => (saves.push(r), answer), openCompare: () => undefined },
      box.post,
      fakeLog(),
    );
    await c.dispatcher.receive(readyMessage('dashboard'));
    const ids = [runs[3].id, runs[0].id];
    await c.dispatcher.receive({
      kind: 'request',
      id: 1,
      method: 'dashboard/export',
      params: { format: 'csv', runIds: ids },
    });
    assert.deepEqual(box.sent.at(-1), {
      kind: 'response',
      id: 1,
      ok: true,
      result: { savedTo: '/work/space/runs.csv' },
    });
    assert.equal(saves[0].suggestedName, 'efficientllm-runs.csv');
    assert.deepEqual(saves[0].filters, { CSV: ['csv'] });
    assert.equal(new TextDecoder().decode(saves[0].bytes), toCsv([runs[0], runs[3]]), 'the chosen runs, oldest first');

    answer = null;
    await c.dispatcher.receive({
      kind: 'request',
      id: 2,
      method: 'dashboard/export',
      params: { format: 'md', runIds: [] },
    });
    assert.deepEqual(box.sent.at(-1), { kind: 'response', id: 2, ok: true, result: { savedTo: null } }, 'cancelled');
    await c.dispatcher.receive({
      kind: 'request',
      id: 3,
      method: 'dashboard/export',
      params: { format: 'json', runIds: ['20990101-000000-ffff'] },
    });
    const gone = box.sent.at(-1);
    assert.ok(gone?.kind === 'response' && !gone.ok && /none of these runs/.test(gone.error));

    answer = '/work/space/bars.png';
    await c.dispatcher.receive({
      kind: 'request',
      id: 4,
      method: 'dashboard/savePng',
      params: { chart: '../../bars', dataUrl: `data:image/png;base64,${PNG_1x1}` },
    });
    assert.deepEqual(box.sent.at(-1), {
      kind: 'response',
      id: 4,
      ok: true,
      result: { savedTo: '/work/space/bars.png' },
    });
    const png = saves.at(-1) as SaveRequest;
    assert.equal(png.suggestedName, 'efficientllm-bars.png', 'the chart name cannot reach outside a file name');
    assert.deepEqual([...png.bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const notPng = Buffer.from('GIF89a not a png').toString('base64');
    await c.dispatcher.receive({
      kind: 'request',
      id: 5,
      method: 'dashboard/savePng',
      params: { chart: 'bars', dataUrl: `data:image/png;base64,${notPng}` },
    });
    const refused = box.sent.at(-1);
    assert.ok(refused?.kind === 'response' && refused.id === 5 && !refused.ok && /PNG signature/.test(refused.error));
    assert.equal(saves.length, 3, 'no dialog for a refused image');
  });

  test('compare and sidebar: data, refresh, and their one-click commands', async () => {
    const cbox = outbox<'compare'>();
    const opened: string[][] = [];
    const log = fakeLog();
    const ids = [runs[0].id, runs[1].id, runs[2].id];
    const c = new CompareController(ids, { runs: source, openDashboard: (x) => void opened.push(x) }, cbox.post, log);
    await c.dispatcher.receive(readyMessage('compare'));
    const first = cbox.sent[0];
    assert.ok(first.kind === 'notification' && first.method === 'compare/data');
    assert.deepEqual({ ...first.params, generatedAt: '' }, { ...compareData(runs.slice(0, 3)), generatedAt: '' });
    await c.dispatcher.receive({ kind: 'command', method: 'compare/openDashboard', params: { runIds: ids } });
    assert.deepEqual(opened, [ids]);
    await c.setRunIds(['20990101-000000-ffff', '20990101-000000-eeee']);
    assert.equal(cbox.sent.length, 1, 'nothing to show: the page keeps what it has');
    assert.ok(log.lines.some((l) => l.includes('none of the compared runs')));
    await c.dispatcher.receive({ kind: 'request', id: 9, method: 'compare/refresh', params: {} });
    const refresh = cbox.sent.at(-1);
    assert.ok(refresh?.kind === 'response' && refresh.id === 9 && !refresh.ok);

    const sbox = outbox<'sidebar'>();
    const s = new SidebarController({ runs: source, openDashboard: (x) => void opened.push(x) }, sbox.post, fakeLog());
    await s.dispatcher.receive(readyMessage('sidebar'));
    const side = sbox.sent[0];
    assert.ok(side.kind === 'notification' && side.method === 'sidebar/data');
    assert.deepEqual(side.params, sidebarData(runs));
    await s.dispatcher.receive({ kind: 'command', method: 'sidebar/openDashboard', params: { runIds: [runs[4].id] } });
    assert.deepEqual(opened.at(-1), [runs[4].id]);
  });

  test('helpers: state of a restored panel, run selection, PNG decoding, chart file names', () => {
    assert.deepEqual(runIdsFromState({ runIds: ['a', 3, '', 'b'], metric: 'x' }), ['a', 'b']);
    assert.deepEqual(runIdsFromState(undefined), []);
    assert.deepEqual(runIdsFromState({ runIds: 'a' }), []);
    assert.deepEqual(selectRuns(runs, []).length, runs.length);
    assert.deepEqual(
      selectRuns(runs, [runs[2].id, 'nope']).map((r: RunRecord) => r.id),
      [runs[2].id],
    );
    assert.throws(() => decodePngDataUrl('data:image/jpeg;base64,AAAA'), /not a PNG data: URL/);
    assert.throws(() => decodePngDataUrl('data:image/png;base64,@@@@'), /not valid base64/);
    assert.equal(decodePngDataUrl(`data:image/png;base64,${PNG_1x1}`).length, 70);
    assert.equal(chartFileName('<script>'), 'efficientllm-script.png');
    assert.equal(chartFileName('../..'), 'efficientllm-chart.png');
  });
});

describe('launcher controller', () => {
  const site: ModelSite = {
    file: '/ws/models/llama.py',
    line: 12,
    kind: 'attention',
    attention: 'gqa',
    name: 'LlamaAttention',
    details: { heads: 8, kvHeads: 2, hidden: 256 },
  };
  const targets = targetChoices([{ name: 'gpubox', kind: 'ssh', hosts: ['gpubox'] }]);

  const allCompleted = (n: number) => ({ runs: n, completed: n, failed: 0, cancelled: 0 });

  function deps(over: Partial<LauncherDeps> = {}) {
    const launched: { configs: ProfileConfig[]; target: string }[] = [];
    const opened: ModelSite[] = [];
    const d: LauncherDeps = {
      sites: async () => [site],
      targets: () => targets,
      defaults: () => ({ preset: 'tiny', attention: ['mha', 'gqa'], precision: ['bf16'] }),
      sampleMs: () => 25,
      launch: async (configs, target) => {
        launched.push({ configs, target });
        return allCompleted(configs.length);
      },
      openSite: (s) => void opened.push(s),
      displayPath: (f) => f.replace('/ws/', ''),
      ...over,
    };
    return { d, launched, opened };
  }

  async function started(over: Partial<LauncherDeps> = {}) {
    const box = outbox<'launcher'>();
    const log = fakeLog();
    const f = deps(over);
    const c = new LauncherController({ file: site.file, line: 14 }, f.d, box.post, log);
    await c.dispatcher.receive(readyMessage('launcher'));
    const first = box.sent[0];
    assert.ok(first.kind === 'notification' && first.method === 'launcher/init');
    return { c, box, log, ...f, init: first.params as LauncherInit };
  }

  test('ready: the init is seeded from the file and line; previews are the core preview of the form', async () => {
    const { c, box, init } = await started();
    assert.equal(init.seedNote, 'From models/llama.py:12 · LlamaAttention');
    assert.deepEqual(init.form.source, { kind: 'site', siteId: siteId(site) });
    assert.deepEqual(init.form.attention, ['gqa', 'mha']);
    assert.equal(init.form.kvHeads, '2');
    assert.deepEqual(
      init.targets.map((t) => t.value),
      ['local', 'gpubox'],
    );
    assert.equal(init.launchBlocked, null);
    await c.dispatcher.receive({ kind: 'request', id: 1, method: 'launcher/preview', params: { form: init.form } });
    const r = box.sent.at(-1);
    assert.ok(r?.kind === 'response' && r.ok);
    const env = { sites: [site], targets: ['local', 'gpubox'], sampleMs: 25 };
    assert.deepEqual(r.result as LauncherPreview, launcherPreview(init.form, env));
    assert.equal((r.result as LauncherPreview).sweepSize, 2);
  });

  test('launch: the host re-plans the form, hands the configs over, answers, then reports the end', async () => {
    let finish: () => void = () => undefined;
    const done = new Promise<void>((r) => (finish = r));
    const { c, box, init, launched } = await started({
      launch: async (configs, target) => {
        launched.push({ configs, target });
        await done;
        return allCompleted(configs.length);
      },
    });
    const form: LauncherForm = { ...init.form, target: 'gpubox', precision: ['bf16', 'fp16'] };
    await c.dispatcher.receive({ kind: 'request', id: 2, method: 'launcher/launch', params: { form } });
    assert.deepEqual(
      box.sent.at(-1),
      { kind: 'response', id: 2, ok: true, result: { launched: 4, target: 'gpubox' } },
      'answered once handed over',
    );
    assert.equal(launched.length, 1);
    assert.equal(launched[0].target, 'gpubox');
    const plan = launcherPlan(form, { sites: [site], targets: ['local', 'gpubox'], sampleMs: 25 });
    assert.ok(plan.ok);
    assert.deepEqual(launched[0].configs, plan.configs);
    assert.ok(
      launched[0].configs.every(
        (cfg) => cfg.sampleMs === 25 && cfg.model.source === 'synthetic' && cfg.model.shape.heads === 8,
      ),
    );
    finish();
    await tick();
    await tick();
    assert.deepEqual(box.sent.at(-1), {
      kind: 'notification',
      method: 'launcher/launchResult',
      params: { ok: true, message: 'Finished 4 configs on gpubox.' },
    });
  });

  test('launch ends: errors name the field, a cancelled sweep says so, a failed sweep is reported', async () => {
    const cancelled = await started({ launch: async () => ({ runs: 2, completed: 0, failed: 0, cancelled: 2 }) });
    await cancelled.c.dispatcher.receive({
      kind: 'request',
      id: 3,
      method: 'launcher/launch',
      params: { form: cancelled.init.form },
    });
    await tick();
    await tick();
    assert.deepEqual(cancelled.box.sent.at(-1), {
      kind: 'notification',
      method: 'launcher/launchResult',
      params: { ok: true, message: 'Sweep cancelled (2 runs).' },
    });

    const bad = await started();
    await bad.c.dispatcher.receive({
      kind: 'request',
      id: 4,
      method: 'launcher/launch',
      params: { form: { ...bad.init.form, kvHeads: '3', target: 'elsewhere' } },
    });
    const r = bad.box.sent.at(-1);
    assert.ok(r?.kind === 'response' && !r.ok);
    assert.match(r.error, /^the form has errors:\nkvHeads: .*\ntarget: "elsewhere" is not a configured target/m);
    assert.equal(bad.launched.length, 0);

    const failing = await started({ launch: async () => Promise.reject(new Error('harness exited 1')) });
    await failing.c.dispatcher.receive({
      kind: 'request',
      id: 5,
      method: 'launcher/launch',
      params: { form: failing.init.form },
    });
    await tick();
    await tick();
    assert.deepEqual(failing.box.sent.at(-1), {
      kind: 'notification',
      method: 'launcher/launchResult',
      params: { ok: false, message: 'The sweep of 2 configs on local failed: harness exited 1' },
    });
    assert.ok(failing.log.lines.some((l) => l.startsWith('error launcher: the sweep of 2 configs on local failed')));
  });

  test('sites: a failing provider leaves the list empty; openSite opens a known site only; a new seed is a new revision', async () => {
    const { c, box, log, init, opened } = await started({
      sites: async () => Promise.reject(new Error('scan not finished')),
    });
    assert.deepEqual(init.sites, []);
    assert.equal(init.form.source.kind, 'preset');
    assert.ok(log.lines.some((l) => l.includes('scan not finished')));

    const ok = await started();
    await ok.c.dispatcher.receive({ kind: 'command', method: 'launcher/openSite', params: { siteId: siteId(site) } });
    await ok.c.dispatcher.receive({
      kind: 'command',
      method: 'launcher/openSite',
      params: { siteId: 'attention:/etc/passwd:1:x' },
    });
    assert.deepEqual(ok.opened, [site]);
    assert.ok(ok.log.lines.some((l) => l.startsWith('warn launcher: no detected site')));
    void opened;

    await c.setSeed({
      site: { ...site, kind: 'peft', attention: null, name: 'LoraConfig', details: { method: 'dora', rank: 16 } },
    });
    const next = box.sent.at(-1);
    assert.ok(next?.kind === 'notification' && next.method === 'launcher/init');
    const i2 = next.params as LauncherInit;
    assert.ok(i2.revision > init.revision);
    assert.equal(i2.form.stage, 'finetune');
    assert.deepEqual(i2.form.peft, ['full', 'dora']);
    assert.equal(i2.form.peftRank, '16');
    void launcherInit;
  });
});
