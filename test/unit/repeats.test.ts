// Seeds folded into one point, ties inside the spread, and quality (held-out perplexity) weighed by the
// recommendation with both sides quoted: values worked out by hand here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProfileConfigInput } from '../../src/core/config';
import { groupRuns, recommend, NO_CONSTRAINTS } from '../../src/core/recommend';
import { foldRepeats, latencyStdErr } from '../../src/core/repeats';
import type { RunMetrics } from '../../src/core/record';
import { makeRunRecord } from './helpers';

const budget = (kind: string, seed: number): ProfileConfigInput => ({
  stage: 'pretrain',
  attention: { kind },
  trainTokens: 150_000,
  seed,
});
const run = (id: string, kind: string, seed: number, m: Partial<RunMetrics>) =>
  makeRunRecord(id, budget(kind, seed), { peakMemoryBytes: 100e6, ...m });

test('repeats of a config fold into means and sample standard deviations', () => {
  const folded = foldRepeats([
    run('r-gqa0', 'gqa', 0, { latencyS: 0.01, perplexity: 13.3 }),
    run('r-mla0', 'mla', 0, { latencyS: 0.02, perplexity: 12.0 }),
    run('r-gqa1', 'gqa', 1, { latencyS: 0.012, perplexity: 13.7 }),
  ]);
  assert.equal(folded.length, 2);
  const gqa = folded[0];
  assert.deepEqual(gqa.runIds, ['r-gqa0', 'r-gqa1']);
  assert.ok(Math.abs((gqa.run.metrics.perplexity ?? 0) - 13.5) < 1e-12);
  // std of {13.3, 13.7} with n − 1: sqrt(((−0.2)² + 0.2²) / 1) = 0.2828…
  assert.ok(Math.abs((gqa.spread.perplexity ?? 0) - Math.sqrt(0.08)) < 1e-12);
  assert.deepEqual(folded[1].runIds, ['r-mla0']);
  assert.equal(folded[1].spread.perplexity, undefined);
});

test('one run: the standard error of its step times', () => {
  // steps 1, 2, 3: std 1, so the standard error is 1/√3
  assert.ok(Math.abs((latencyStdErr([1, 2, 3]) ?? 0) - 1 / Math.sqrt(3)) < 1e-12);
  assert.equal(latencyStdErr([1]), null);
});

test('quality is weighed: MLA buys perplexity for step time, both sides quoted, every seed cited', () => {
  const runs = [
    run('20260101-000000-aaa1', 'gqa', 0, { latencyS: 0.01, perplexity: 13.3 }),
    run('20260101-000000-aaa2', 'gqa', 1, { latencyS: 0.01, perplexity: 13.7 }),
    run('20260101-000000-bbb1', 'mla', 0, { latencyS: 0.019, perplexity: 11.9 }),
    run('20260101-000000-bbb2', 'mla', 1, { latencyS: 0.019, perplexity: 12.1 }),
  ];
  const [g] = recommend(runs, { objectives: ['quality', 'latency'], constraints: NO_CONSTRAINTS }).groups;
  assert.deepEqual(g.objectives, ['perplexity', 'latency']); // quality = held-out perplexity here
  assert.equal(g.front.length, 2); // neither dominates: a trade-off
  const rec = g.recommendation;
  assert.ok(rec);
  assert.equal(rec.evidence.length, 4);
  assert.match(rec.reason, /ppl 1[23](\.\d+)? ± 0\.\d+ vs 1[23](\.\d+)? ± 0\.\d+/);
  assert.match(rec.reason, /aaa1, aaa2|bbb1, bbb2/);
  assert.ok(g.points.every((p) => p.label.endsWith('(2 seeds)')));
});

test('a difference inside the seeds’ spread is a tie, not a win', () => {
  const runs = [
    run('20260101-000000-ccc1', 'gqa', 0, { latencyS: 0.01, perplexity: 11 }),
    run('20260101-000000-ccc2', 'gqa', 1, { latencyS: 0.01, perplexity: 13 }),
    run('20260101-000000-ddd1', 'mqa', 0, { latencyS: 0.01, perplexity: 12 }),
    run('20260101-000000-ddd2', 'mqa', 1, { latencyS: 0.01, perplexity: 14 }),
  ];
  const [g] = recommend(runs, { objectives: ['perplexity', 'latency'], constraints: NO_CONSTRAINTS }).groups;
  // 12 ± 1.41 vs 13 ± 1.41: 8% apart, more than "equal" (5%), but inside the spread: a tie
  assert.equal(g.dominated.length, 0);
  assert.match(g.recommendation?.reason ?? '', /no measurable difference/);
});

test('runs trained to different budgets are never compared', () => {
  const a = makeRunRecord('x1', { stage: 'pretrain', trainTokens: 100_000 });
  const b = makeRunRecord('x2', { stage: 'pretrain', trainTokens: 150_000 });
  const c = makeRunRecord('x3', { stage: 'pretrain' });
  assert.equal(groupRuns([a, b, c]).length, 3);
});
