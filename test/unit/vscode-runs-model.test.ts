// The one run model of the extension (src/vscode/runsModel.ts) without VS Code: what the Runs view and
// the dashboard read, and how many times the store is read for it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { newRunState } from '../../src/core/assemble';
import { readyMessage } from '../../src/core/webviewProtocol/envelope';
import type { DashboardData } from '../../src/core/webviewProtocol/dashboard';
import type { HostToPage } from '../../src/core/webviewProtocol/panels';
import { RunStore } from '../../src/run/store';
import { DashboardController } from '../../src/vscode/panels/resultsControllers';
import { diskDeps, homeFolder, RunsModel, type RunStoreLike } from '../../src/vscode/runsModel';
import { memoryStores, record, trio } from './vscode-models.fixtures';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const settle = (ms = 40): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A dashboard of every run, as the panel wires it: pushed on every change of the model. */
async function openDashboard(model: RunsModel): Promise<{ last: () => DashboardData | undefined }> {
  const sent: HostToPage<'dashboard'>[] = [];
  const controller = new DashboardController(
    [],
    { runs: model, save: async () => null, openCompare: () => undefined },
    (m) => {
      sent.push(m);
      return true;
    },
    quiet,
  );
  await controller.dispatcher.receive(readyMessage('dashboard'));
  model.onChange(() => void controller.push());
  return {
    last: () => {
      const n = sent.filter((m) => m.kind === 'notification' && m.method === 'dashboard/data').at(-1);
      return n?.kind === 'notification' ? (n.params as DashboardData) : undefined;
    },
  };
}

test('with the Runs view and a dashboard open, one stored run costs one read of the store; a write from this window none', async () => {
  const [a, b, c] = trio();
  const stores = memoryStores({ '/ws': [a] });
  const model = new RunsModel(stores.deps, ['/ws']);
  let viewItems: string[] = [];
  model.onChange(() => (viewItems = model.items().map((i) => i.id))); // the Runs view redraws from memory
  const dashboard = await openDashboard(model); // waits for the first read
  assert.equal(stores.reads('/ws'), 1, 'the first read');
  assert.deepEqual(
    dashboard.last()?.runs.map((r) => r.id),
    [a.id],
  );

  // Another process (the CLI) stores a run: the watcher reports the temp file's rename as a create and a change.
  const file = stores.write('/ws', b);
  await Promise.all([model.fileChanged(file), model.fileChanged(file)]);
  await settle();
  assert.equal(stores.reads('/ws'), 2, 'one more read for one stored run');
  assert.deepEqual(viewItems, [b.id, a.id]);
  assert.deepEqual(
    dashboard.last()?.runs.map((r) => r.id),
    [a.id, b.id],
  );

  // This window stores a run: shown at once, and the watcher's echo of it reads nothing.
  await model.save(c);
  assert.deepEqual(viewItems, [c.id, b.id, a.id]);
  await Promise.all([model.fileChanged(stores.fileOf('/ws', c.id)), model.fileChanged(stores.fileOf('/ws', c.id))]);
  await settle();
  assert.equal(stores.reads('/ws'), 2, 'no read for a write of this window');
  assert.deepEqual(
    dashboard.last()?.runs.map((r) => r.id),
    [a.id, b.id, c.id],
  );

  // Deleting from this window is no read either.
  await model.delete([b.id]);
  await model.fileChanged(stores.fileOf('/ws', b.id));
  await settle();
  assert.equal(stores.reads('/ws'), 2);
  assert.deepEqual(viewItems, [c.id, a.id]);
});

test('every folder is read and followed on its own; the first folder is where this window writes', async () => {
  const [a, b, c] = trio();
  const stores = memoryStores({ '/ws': [a], '/team': [b] });
  const model = new RunsModel(stores.deps, ['/ws', '/team']);
  await model.reload();
  assert.equal(model.home, '/ws');
  assert.equal(homeFolder(['/ws', '/team']), '/ws');
  assert.deepEqual(
    model.all.map((r) => r.id),
    [b.id, a.id],
  );
  // A teammate's run arrives in the second folder: only that folder is read again.
  await model.fileChanged(stores.write('/team', c));
  await settle();
  assert.equal(stores.reads('/team'), 2);
  assert.equal(stores.reads('/ws'), 1);
  assert.deepEqual(
    model.all.map((r) => r.id),
    [c.id, b.id, a.id],
  );
  await model.save(record('20250101-120300-aaaa', { attention: { kind: 'mha' } }, {}));
  assert.ok((await stores.deps.storeOf('/ws').list()).runs.some((r) => r.id === '20250101-120300-aaaa'));
  // A folder closed: its runs leave the model.
  model.setFolders(['/ws']);
  assert.deepEqual(
    model.all.map((r) => r.id),
    ['20250101-120300-aaaa', a.id],
  );
});

test('the dashboard sees live progress: a run of this window is "running" with its samples so far', async () => {
  const [a] = trio();
  const queued = { ...a, status: 'queued' as const, samples: [] };
  const stores = memoryStores({ '/ws': [queued] });
  const model = new RunsModel(stores.deps, ['/ws']);
  const dashboard = await openDashboard(model);
  assert.equal(dashboard.last()?.runs[0].status, 'queued');
  const sweep = model.startSweep({ kind: 'local', python: 'python3' }, new AbortController());
  model.addActive(sweep, a.id, a.config.label, 'local');
  const state = newRunState();
  state.lastProgress = { phase: 'measure', step: 1, total: 3 };
  state.samples.push(
    { type: 'sample', t: 10, memoryBytes: 100, utilization: null, powerW: null },
    { type: 'sample', t: 10.05, memoryBytes: 200, utilization: null, powerW: null },
  );
  model.update(a.id, state);
  await settle(5);
  const live = dashboard.last()?.runs[0];
  assert.equal(live?.status, 'running');
  assert.deepEqual(
    live?.samples.map((s) => s.memoryBytes),
    [100, 200],
  );
  model.endSweep(sweep);
  await settle(5);
  assert.equal(dashboard.last()?.runs[0].status, 'queued', 'the stored record again once the run left');
});

test('on disk: the fingerprint tells this window’s writes from another process’s', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'efficientllm-runs-model-'));
  try {
    let reads = 0;
    const disk = diskDeps(quiet);
    const model = new RunsModel(
      {
        ...disk,
        settleMs: 5,
        storeOf: (folder): RunStoreLike => {
          const store = disk.storeOf(folder);
          return {
            dir: store.dir,
            fileOf: (id) => store.fileOf(id),
            save: (r) => store.save(r),
            delete: (id) => store.delete(id),
            list: () => {
              reads++;
              return store.list();
            },
          };
        },
      },
      [root],
    );
    await model.reload();
    const [a, b] = trio();
    await model.save(a);
    await model.fileChanged(RunStore.forWorkspace(root).fileOf(a.id));
    await settle();
    assert.equal(reads, 1, 'our own save is not read back');
    const cli = RunStore.forWorkspace(root); // another process's store object on the same folder
    const files = [await cli.save({ ...a, status: 'failed' }), await cli.save(b)];
    await Promise.all(files.map((f) => model.fileChanged(f)));
    await settle();
    assert.equal(reads, 2, 'two saves in one burst: one read');
    assert.equal(model.get(a.id)?.status, 'failed', "the other process's rewrite of our run is seen");
    assert.ok(model.get(b.id));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
