// The launch wiring without VS Code: the real LauncherController, launchWiring.ts and sweep.ts's
// runSweep (profile() from the run room) on a fake target, with a real sites index in a temporary
// folder. The site the form picked is where the runs are indexed, whether the Launcher was opened
// from a CodeLens of another site or from the palette.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { newRunState } from '../../src/core/assemble';
import { readyMessage } from '../../src/core/webviewProtocol/envelope';
import type { LauncherForm, LauncherInit } from '../../src/core/webviewProtocol/launcher';
import type { HostToPage } from '../../src/core/webviewProtocol/panels';
import type { ModelSite } from '../../src/detect/site';
import { TargetError, type PlannedRun, type Target, type TargetHooks } from '../../src/run/target';
import { siteId, targetChoices } from '../../src/views/launcherData';
import { launcherLaunch } from '../../src/vscode/launchWiring';
import { LauncherController } from '../../src/vscode/panels/launcherController';
import type { LauncherSeedInput } from '../../src/views/launcherData';
import { RunsModel } from '../../src/vscode/runsModel';
import { runIdsForSite, siteRefIn, SitesIndexFile } from '../../src/vscode/sitesIndex';
import { runSweep, pythonProblemText } from '../../src/vscode/sweep';
import { memoryStores } from './vscode-models.fixtures';

const root = mkdtempSync(path.join(tmpdir(), 'efficientllm-launch-'));
after(() => rmSync(root, { recursive: true, force: true }));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

const site = (name: string, file: string, line: number): ModelSite => ({
  file: path.join(root, file),
  line,
  kind: 'attention',
  attention: 'gqa',
  name,
  details: { heads: 8, kvHeads: 2, hidden: 256 },
});
const llama = site('LlamaAttention', 'models/llama.py', 12);
const mqa = site('MultiQueryAttention', 'models/mqa.py', 15);

/** A target that ends every run as `mode` says: failed at once, or cancelled when the sweep is aborted. */
function fakeTarget(mode: 'fail' | 'wait-for-cancel' | 'bad-python'): Target {
  return {
    kind: 'local',
    name: 'local',
    prepare: async () => {
      if (mode === 'bad-python')
        throw new TargetError(
          'Python interpreter "/nope/python" could not start (spawnSync /nope/python ENOENT); pass --python PATH or set EFFICIENTLLM_PYTHON',
        );
    },
    execute: async (runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal) => {
      if (mode === 'wait-for-cancel') {
        for (const r of runs)
          hooks.onUpdate(r.id, { ...newRunState(), lastProgress: { phase: 'measure', step: 1, total: 3 } });
        // The sweep may be cancelled before execution starts (its runs are active from when their ids exist).
        if (!signal.aborted)
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      for (const r of runs)
        await hooks.onRunEnd({
          id: r.id,
          state: newRunState(),
          ending: signal.aborted
            ? { status: 'cancelled', message: 'cancelled' }
            : { status: 'failed', message: 'no GPU' },
          stderrTail: '',
        });
    },
  };
}

function harness(mode: 'fail' | 'wait-for-cancel' | 'bad-python', seed: LauncherSeedInput | undefined) {
  const stores = memoryStores();
  const runs = new RunsModel(stores.deps, [root]);
  // Each test its own index file; the refs in it are relative to `root`, where the sites are.
  const sites = new SitesIndexFile(mkdtempSync(path.join(root, 'index-')));
  let n = 0;
  const sent: HostToPage<'launcher'>[] = [];
  const controller = new LauncherController(
    seed,
    {
      sites: async () => [llama, mqa],
      targets: () => targetChoices([]),
      defaults: () => ({ preset: 'tiny', attention: ['gqa'], precision: ['fp32'], steps: 2, warmup: 1 }),
      sampleMs: () => 50,
      openSite: () => undefined,
      launch: launcherLaunch({
        resolveTarget: (name) => ({
          name,
          spec: { kind: 'local', python: 'python3' },
          pythonSetting: 'efficientllm.pythonPath',
        }),
        siteRef: (s) => siteRefIn(root, s),
        profile: (configs, spec, options) =>
          runSweep(
            {
              runs,
              sites,
              log: quiet,
              createTarget: () => fakeTarget(mode),
              closeTarget: async () => undefined,
              isTargetError: (e) => e instanceof TargetError,
              analytic: () => {
                throw new Error('no run of the fake target has a result to analyse');
              },
              newId: () => `20250101-1200${String(n++).padStart(2, '0')}-abcd`,
            },
            {
              configs,
              spec,
              targetName: options.targetName,
              site: options.site,
              controller: new AbortController(),
              describeFailure: (f) => pythonProblemText(f, options.pythonSetting),
            },
          ),
      }),
    },
    (m) => {
      sent.push(m);
      return true;
    },
    quiet,
  );
  const result = (): { ok: boolean; message: string } | undefined => {
    const m = sent.filter((x) => x.kind === 'notification' && x.method === 'launcher/launchResult').at(-1);
    return m?.kind === 'notification' ? (m.params as { ok: boolean; message: string }) : undefined;
  };
  const launch = async (change: (form: LauncherForm) => LauncherForm): Promise<void> => {
    await controller.dispatcher.receive(readyMessage('launcher'));
    const init = sent.find((m) => m.kind === 'notification' && m.method === 'launcher/init');
    assert.ok(init?.kind === 'notification');
    const form = change((init.params as LauncherInit).form);
    await controller.dispatcher.receive({ kind: 'request', id: 1, method: 'launcher/launch', params: { form } });
    const answer = sent.find((m) => m.kind === 'response');
    assert.ok(answer?.kind === 'response' && answer.ok, JSON.stringify(answer));
  };
  return { runs, sites, stores, result, launch };
}

const ref = (s: ModelSite) => siteRefIn(root, s) as NonNullable<ReturnType<typeof siteRefIn>>;

test('Launcher opened from one site, another picked in the form: the runs are indexed under the picked site', async () => {
  const h = harness('fail', { file: llama.file, line: llama.line, site: llama });
  await h.launch((form) => {
    assert.deepEqual(form.source, { kind: 'site', siteId: siteId(llama) }, 'seeded with the lens site');
    return { ...form, source: { kind: 'site', siteId: siteId(mqa) } };
  });
  for (let i = 0; i < 500 && !h.result(); i++) await tick();
  const index = await h.sites.read();
  const ids = h.runs.all.map((r) => r.id);
  assert.equal(ids.length, 1);
  assert.deepEqual(runIdsForSite(index, ref(mqa)), ids, 'under the site picked in the form');
  assert.deepEqual(runIdsForSite(index, ref(llama)), [], 'not under the site the Launcher was opened from');
  assert.deepEqual(ref(mqa), { file: 'models/mqa.py', line: 15, name: 'MultiQueryAttention' });
  assert.deepEqual(h.result(), {
    ok: false,
    message: 'Finished 1 config on local: 1 of 1 run failed (see the Runs view).',
  });
});

test('Launcher opened from the palette (no seed), a site picked: the runs are indexed under that site', async () => {
  const h = harness('fail', undefined);
  await h.launch((form) => {
    assert.equal(form.source.kind, 'preset', 'no site until one is picked');
    return { ...form, source: { kind: 'site', siteId: siteId(llama) } };
  });
  for (let i = 0; i < 500 && !h.result(); i++) await tick();
  const index = await h.sites.read();
  assert.deepEqual(
    runIdsForSite(index, ref(llama)),
    h.runs.all.map((r) => r.id),
  );
  assert.equal(h.runs.all.length, 1);
});

test('a preset launch indexes nothing', async () => {
  const h = harness('fail', undefined);
  await h.launch((form) => form);
  for (let i = 0; i < 500 && !h.result(); i++) await tick();
  assert.equal(h.runs.all.length, 1);
  assert.deepEqual((await h.sites.read()).files, {});
});

test('a cancelled sweep is reported as cancelled, with its runs counted', async () => {
  const h = harness('wait-for-cancel', undefined);
  await h.launch((form) => ({ ...form, attention: ['gqa', 'mha'] }));
  for (let i = 0; i < 50 && h.runs.active.size < 2; i++) await tick();
  assert.equal(h.runs.active.size, 2);
  assert.ok(h.runs.cancel([...h.runs.active.keys()][0]));
  for (let i = 0; i < 500 && !h.result(); i++) await tick();
  assert.deepEqual(h.result(), { ok: true, message: 'Sweep cancelled (2 runs).' });
  assert.deepEqual(
    h.runs.all.map((r) => r.status),
    ['cancelled', 'cancelled'],
  );
});

test('an interpreter that cannot start: a failed run, stored and indexed, and the reason names the setting', async () => {
  const h = harness('bad-python', { file: llama.file, line: llama.line, site: llama });
  await h.launch((form) => form);
  for (let i = 0; i < 500 && !h.result(); i++) await tick();
  const [failed] = h.runs.all;
  assert.equal(h.runs.all.length, 1);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.kind, 'harness-exit');
  assert.match(failed.error?.message ?? '', /efficientllm\.pythonPath/);
  assert.doesNotMatch(failed.error?.message ?? '', /--python|EFFICIENTLLM_PYTHON/);
  assert.deepEqual(runIdsForSite(await h.sites.read(), ref(llama)), [failed.id]);
  const end = h.result();
  assert.equal(end?.ok, false);
  assert.match(
    end?.message ?? '',
    /^The sweep of 1 config on local failed: the harness did not start: the Python interpreter "\/nope\/python" \(efficientllm\.pythonPath\) could not start \(spawnSync \/nope\/python ENOENT\)\. Set efficientllm\.pythonPath to a Python 3 with PyTorch\.$/,
  );
  assert.equal(h.runs.active.size, 0);
});
