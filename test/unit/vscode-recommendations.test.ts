// The Recommendations view and Recommend document (src/vscode/recommendModel.ts), and the Runs view
// items (src/vscode/runItem.ts, src/vscode/runsModel.ts): what the sidebar shows, without VS Code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRunState } from '../../src/core/assemble';
import { PRIORS } from '../../src/core/priors';
import { recommendationMarkdown, recommendationTree } from '../../src/vscode/recommendModel';
import { runItem } from '../../src/vscode/runItem';
import { RunsModel } from '../../src/vscode/runsModel';
import { memoryStores, record, trio } from './vscode-models.fixtures';

test('one node per group: the recommendation, expandable to the Pareto front', () => {
  const tree = recommendationTree(trio());
  assert.equal(tree.length, 1);
  const [g] = tree;
  assert.equal(g.label, 'GQA-2');
  assert.match(g.description ?? '', /^inference · tiny · batch 1, seqLen 128, newTokens 32 · NVIDIA H100 80GB HBM3$/);
  assert.match(g.tooltip ?? '', /40% less memory than MHA at equal latency/);
  assert.deepEqual(g.runIds, ['20250101-120100-c3d4', '20250101-120000-a1b2', '20250101-120200-e5f6']);
  // Front order: nearest the ideal point first.
  assert.deepEqual(
    g.children.map((c) => [c.label, c.icon]),
    [
      ['GQA-2', 'star-full'],
      ['MQA', 'circle-outline'],
      ['MHA', 'circle-outline'],
    ],
  );
  assert.match(g.children[0].description ?? '', /latency 1\.02 s · memory 6\.00 GiB/);
});

test("failed runs are listed as excluded with why; no completed runs → the study's priors, labelled", () => {
  const runs = [
    ...trio(),
    record(
      '20250101-120300-dead',
      { attention: { kind: 'mla' } },
      {},
      { status: 'failed', error: { kind: 'oom', message: 'out of memory', stderrTail: '' } },
    ),
  ];
  const excluded = recommendationTree(runs)[0].children.filter((c) => c.icon === 'info');
  assert.deepEqual(
    excluded.map((c) => c.description),
    ['not completed (failed: oom (out of memory))'],
  );
  const priors = recommendationTree([]);
  assert.equal(priors.length, PRIORS.length);
  assert.ok(
    priors.every(
      (p) =>
        p.icon === 'lightbulb' &&
        /^prior · EfficientLLM, arXiv 2505\.13840$/.test(p.description ?? '') &&
        p.runIds.length === 0,
    ),
  );
});

test('the Recommend document is Markdown with the front table, citing run ids', () => {
  const md = recommendationMarkdown(trio(), '.efficientllm/runs');
  assert.match(md, /^# EfficientLLM recommendations\n\nFrom 3 run\(s\) in `\.efficientllm\/runs`\./);
  assert.match(
    md,
    /\*\*Recommendation:\*\* GQA-2: 40% less memory than MHA at equal latency; 22% faster than MQA for 9% more memory — runs c3d4, a1b2, e5f6/,
  );
  assert.match(md, /\| ★ \| `20250101-120100-c3d4` \| GQA-2 \| 1\.02 s \| 6\.00 GiB \|/);
  assert.match(
    recommendationMarkdown([], '.efficientllm/runs'),
    /No completed runs yet[\s\S]*## Priors from the EfficientLLM study/,
  );
});

test('run items: state icons from records, live progress while this window runs them', async () => {
  const [done] = trio();
  assert.equal(runItem(done, undefined).icon, 'pass');
  assert.equal(runItem({ ...done, status: 'failed' }, undefined).icon, 'error');
  assert.equal(runItem({ ...done, status: 'cancelled' }, undefined).icon, 'circle-slash');
  assert.equal(runItem(done, undefined).contextValue, 'run.local');
  assert.equal(runItem({ ...done, target: { kind: 'ssh', name: 'gpubox' } }, undefined).contextValue, 'run');

  const model = new RunsModel(memoryStores({ '/ws': [done] }).deps, ['/ws']);
  let changes = 0;
  model.onChange(() => changes++);
  await model.reload();
  const controller = new AbortController();
  const sweep = model.startSweep({ kind: 'local', python: 'python3' }, controller);
  model.addActive(sweep, '20250101-130000-0001', 'tiny gqa-2 fp32 inference', 'local');
  const state = newRunState();
  state.lastProgress = { phase: 'measure', step: 3, total: 5 };
  model.update('20250101-130000-0001', state);
  const items = model.items();
  assert.deepEqual(
    items.map((i) => [i.id, i.icon]),
    [
      ['20250101-130000-0001', 'loading~spin'],
      [done.id, 'pass'],
    ],
  );
  assert.equal(items[0].description, 'measure 3/5 · local');
  assert.equal(items[0].contextValue, 'run.active');
  assert.equal(model.cancel('20250101-130000-0001'), true);
  assert.equal(controller.signal.aborted, true, "cancel aborts the sweep's signal");
  assert.equal(model.cancel(done.id), false, 'a stored run is not running here');
  model.endSweep(sweep);
  assert.equal(model.active.size, 0);
  assert.ok(changes >= 5);
});
