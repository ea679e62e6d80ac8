// The dashboard's and Compare's view of quality and of several stages: groups of comparable runs,
// seeds folded to mean ± spread (checked against the numbers computed here), evals carried as
// measured, config differences and warnings, percentage points, the sidebar's perplexity headline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareData, dashboardData, deltaOf, sidebarData } from '../../src/views/webviewData';
import { finetuneRuns, inferenceRuns, pretrainRuns, stagedRuns } from '../webview/qualityFixtures';
import { sweep } from '../webview/fixtures';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation, written out here rather than taken from src/core/repeats.ts. */
const sd = (xs: number[]): number => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

test('dashboard groups: one per stage here, each with its own columns; the newest completed group first', () => {
  const runs = stagedRuns();
  const d = dashboardData(runs);
  assert.deepEqual(
    d.groups.map((g) => g.stage),
    ['pretrain', 'finetune', 'inference'],
  );
  assert.deepEqual(
    d.groups.map((g) => g.runIds.length),
    [4, 2, 2],
  );
  assert.equal(d.defaultGroup, d.groups[2].key, 'inference holds the newest run');
  for (const r of d.runs) assert.ok(d.groups.find((g) => g.key === r.group)?.runIds.includes(r.id));
  assert.match(
    d.groups[0].label,
    /^pretrain · tiny · batch \d+, seqLen \d+ · 150k tokens of synthetic · cpu · 4 runs$/,
  );
  assert.doesNotMatch(d.groups[0].label, /newTokens/, 'no newTokens for training');
  assert.match(d.groups[2].label, /newTokens/);
  const measured = (i: number, k: string): boolean => d.groups[i].metrics.find((m) => m.key === k)?.measured ?? false;
  assert.equal(measured(1, 'baseValLoss'), true);
  assert.equal(measured(0, 'baseValLoss'), false, "a group's columns come from its own runs");
  assert.equal(measured(0, 'dataEntropy'), true);
  assert.deepEqual(d.groups[0].metrics.find((m) => m.key === 'trainTokens')?.axis, { divisor: 1e3, unit: 'K tokens' });
  for (const g of d.groups)
    assert.ok(
      d.recommendations.some((r) => r.group === g.key),
      `a recommendation per group`,
    );
});

test('evals reach the page as the record holds them; quality cells formatted, nulls kept', () => {
  const runs = pretrainRuns();
  const d = dashboardData(runs);
  for (const r of runs) {
    const v = d.runs.find((x) => x.id === r.id);
    assert.deepEqual(v?.evals, r.evals);
    assert.equal(v?.metrics.perplexity.v, Math.exp(r.metrics.valLoss as number));
    assert.equal(v?.metrics.valLoss.text, (r.metrics.valLoss as number).toPrecision(3));
  }
  const inf = dashboardData(inferenceRuns());
  assert.deepEqual(inf.runs[0].evals, [], 'no evals: an empty list');
  assert.equal(inf.runs[0].metrics.dataEntropy.v, null);
});

test('seeds fold into mean ± spread, the same numbers recommend() weighs; labels name the seed', () => {
  const runs = pretrainRuns();
  const d = dashboardData(runs);
  const reps = d.groups[0].repeats;
  assert.equal(reps.length, 2);
  const gqa = reps.find((r) => r.runIds.includes('20250701-090000-aa01'));
  assert.ok(gqa);
  assert.deepEqual(gqa.seeds, [0, 1]);
  assert.equal(gqa.runId, '20250701-090000-aa01');
  assert.match(gqa.label, /\(2 seeds\)$/);
  const losses = [3.42, 3.46];
  const ppl = losses.map(Math.exp);
  assert.ok(Math.abs((gqa.cells.valLoss?.mean ?? NaN) - mean(losses)) < 1e-12);
  assert.ok(Math.abs((gqa.cells.valLoss?.spread ?? NaN) - sd(losses)) < 1e-12);
  assert.ok(Math.abs((gqa.cells.perplexity?.mean ?? NaN) - mean(ppl)) < 1e-9);
  assert.ok(Math.abs((gqa.cells.perplexity?.spread ?? NaN) - sd(ppl)) < 1e-9);
  assert.equal(gqa.cells.valLoss?.text, `${mean(losses).toPrecision(3)} ± ${sd(losses).toPrecision(3)}`);
  assert.equal(gqa.cells.baseValLoss, undefined, 'not measured: no cell');
  const labels = d.runs.map((r) => r.label);
  assert.equal(new Set(labels).size, labels.length);
  assert.ok(
    labels.every((l) => / · seed [01]$/.test(l)),
    labels.join(' | '),
  );
  const rec = d.recommendations[0];
  assert.ok(
    reps.some((r) => r.runId === rec.runId),
    'the recommendation names a folded config by its first run',
  );
  assert.equal(dashboardData(finetuneRuns()).groups[0].repeats.length, 0, 'one seed: nothing folded');
});

test('compare: the config differences block, a warning across stages, no better or worse across groups', () => {
  const [pre] = pretrainRuns();
  const [inf] = inferenceRuns();
  const c = compareData([pre, inf]);
  const row = (f: string) => c.differences.find((d) => d.field === f);
  assert.deepEqual(row('Stage'), { field: 'Stage', values: ['pretrain', 'inference'], differs: true });
  assert.equal(row('Device')?.differs, false);
  assert.deepEqual(row('Training budget')?.values, ['150k tokens of synthetic', '100k tokens of synthetic']);
  assert.deepEqual(
    c.runs.map((r) => r.label),
    ['fp32 · pretrain', 'bf16 · inference'],
    'labels name the stage when stages differ',
  );
  assert.equal(row('Target')?.values[0], 'local');
  assert.equal(c.warnings.length, 2);
  assert.match(c.warnings[0], /different stages \(pretrain, inference\)/);
  assert.match(c.warnings[1], /more than the technique \(workload, training budget\)/);
  const latency = c.deltas[pre.id][inf.id].latencyS;
  assert.equal(latency?.verdict, 'neutral', 'neither is better across stages');
  assert.match(latency?.absText ?? '', /^−/);

  const same = compareData(sweep().slice(0, 2));
  assert.deepEqual(same.warnings, [], 'one group: no warning');
  assert.equal(same.differences.find((d) => d.field === 'Attention')?.differs, true);
  assert.equal(same.deltas[same.runs[0].id][same.runs[1].id].latencyS?.verdict, 'better');
});

test('deltas of percentages are in points; the sidebar headline shows perplexity where measured', () => {
  const d = deltaOf('mfu', 0.102, 0.127);
  assert.equal(d?.absText, '+2.50 pp');
  assert.equal(d?.pctText, '+24.5%');
  assert.equal(deltaOf('mfu', 0.1, 0.1)?.absText, '±0 pp');
  assert.ok(sidebarData(pretrainRuns()).headline.some((m) => m.key === 'perplexity'));
  assert.ok(!sidebarData(sweep()).headline.some((m) => m.key === 'perplexity'), 'not measured: not shown');
});
