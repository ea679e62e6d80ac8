import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METRIC_NAMES } from '../../src/core/record';
import {
  axisFor,
  compareData,
  dashboardData,
  deltaOf,
  METRIC_DIRECTIONS,
  runLabels,
  sidebarData,
} from '../../src/views/webviewData';
import { sweep } from '../webview/fixtures';

test('dashboard data: runs oldest first, unique labels, formatted metrics, nulls kept', () => {
  const runs = sweep();
  const d = dashboardData([...runs].reverse(), { now: new Date('2025-06-02T00:00:00Z') });
  assert.deepEqual(
    d.runs.map((r) => r.id),
    runs.map((r) => r.id),
  );
  assert.deepEqual(
    d.runs.map((r) => r.label),
    ['MHA bf16', 'GQA-2 bf16', 'MQA bf16', 'GQA-2 fp16', 'MHA fp32'],
  );
  assert.equal(d.generatedAt, '2025-06-02T00:00:00.000Z');
  const mha = d.runs[0];
  assert.deepEqual(mha.metrics.latencyS, { v: 0.0452, text: '45.2 ms' });
  assert.equal(mha.metrics.peakMemoryBytes.text, '2.60 GiB');
  const failed = d.runs[4];
  assert.deepEqual(failed.metrics.latencyS, { v: null, text: '—' }, 'not measured stays null, never 0');
  assert.equal(failed.error?.kind, 'oom');
  assert.equal(mha.samples[0].t, 0, 'sample times start at 0');
  assert.equal(d.exports, null, 'exports only when asked (static report)');
  assert.equal(Object.keys(mha.metrics).length, METRIC_NAMES.length);
});

test('dashboard data: the recommendation and its front come from recommend()', () => {
  const d = dashboardData(sweep());
  assert.equal(d.recommendations.length, 1);
  const r = d.recommendations[0];
  assert.equal(r.runId, '20250601-100200-e5f6');
  assert.equal(r.label, 'MQA bf16');
  assert.ok(r.front.includes(r.runId));
  assert.match(r.reason, /^MQA bf16: /);
});

test('dashboard data: static exports are the export module’s texts', () => {
  const d = dashboardData(sweep(), { withExports: true });
  assert.ok(d.exports);
  assert.match(d.exports.csv, /^id,createdAt,status,target,label,/);
  assert.match(d.exports.md, /^\| id \| createdAt \|/);
  assert.equal(JSON.parse(d.exports.json).runs.length, 5);
});

test('labels stay unique for repeats of one config', () => {
  const [a] = sweep();
  const b = { ...a, id: '20250601-110000-ffff', createdAt: '2025-06-01T11:00:00.000Z' };
  const labels = runLabels([a, b]);
  assert.notEqual(labels.get(a.id), labels.get(b.id));
  assert.match(labels.get(b.id) ?? '', /ffff$/);
});

test('chart axes pick a unit from the data', () => {
  assert.deepEqual(axisFor('bytes', [2.6 * 2 ** 30, null]), { divisor: 2 ** 30, unit: 'GiB' });
  assert.deepEqual(axisFor('bytes', [512 * 2 ** 20]), { divisor: 2 ** 20, unit: 'MiB' });
  assert.deepEqual(axisFor('seconds', [0.0452]), { divisor: 1e-3, unit: 'ms' });
  assert.deepEqual(axisFor('seconds', [1.5]), { divisor: 1, unit: 's' });
  assert.deepEqual(axisFor('fraction', [0.3]), { divisor: 0.01, unit: '%' });
  assert.deepEqual(axisFor('tokensPerS', [12_000]), { divisor: 1e3, unit: 'K tok/s' });
  assert.deepEqual(axisFor('joulesPerToken', [0.42]), { divisor: 1e-3, unit: 'mJ/tok' });
  assert.deepEqual(axisFor('bytes', [null, null]), { divisor: 1, unit: 'B' }, 'nothing measured');
});

test('deltas: sign, percent and a verdict that follows the metric’s direction', () => {
  const faster = deltaOf('latencyS', 0.0452, 0.0398);
  assert.deepEqual(faster, {
    absText: '−5.40 ms',
    pct: ((0.0398 - 0.0452) / 0.0452) * 100,
    pctText: '−11.9%',
    verdict: 'better',
  });
  assert.equal(deltaOf('tokensPerS', 700, 800)?.verdict, 'better');
  assert.equal(deltaOf('tokensPerS', 800, 700)?.verdict, 'worse');
  assert.equal(deltaOf('peakMemoryBytes', 100, 100.2)?.verdict, 'same', 'within 0.5%');
  assert.equal(deltaOf('params', 100, 200)?.verdict, 'neutral');
  assert.equal(deltaOf('latencyS', null, 1), null);
  assert.equal(deltaOf('trainableParams', 0, 5)?.pctText, '—', 'no percent of zero');
  for (const k of METRIC_NAMES) assert.ok(k in METRIC_DIRECTIONS);
});

test('compare data: deltas for every baseline; sidebar: the latest sweep', () => {
  const runs = sweep();
  const c = compareData(runs, { baselineId: runs[1].id });
  assert.equal(c.baselineId, runs[1].id);
  assert.equal(Object.keys(c.deltas).length, 5);
  assert.equal(c.deltas[runs[0].id][runs[1].id].latencyS?.verdict, 'better');
  assert.equal(c.deltas[runs[0].id][runs[4].id].latencyS, null, 'the failed run measured nothing');
  assert.throws(() => compareData([]), /at least one run/);
  const s = sidebarData(runs);
  assert.equal(s.runs.length, 5);
  assert.deepEqual(
    s.headline.map((m) => m.key),
    ['latencyS', 'peakMemoryBytes', 'tokensPerS', 'joulesPerToken'],
  );
  assert.equal(s.recommendation?.label, 'MQA bf16');
  assert.match(s.sweep ?? '', /^inference · tiny · /);
});
