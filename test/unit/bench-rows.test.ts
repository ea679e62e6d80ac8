// The bench's row arithmetic (scripts/bench-rows.ts) on made-up numbers: ratio = baseline ÷ value, budgets
// on the value or on the ratio with their edges, nulls for what was not measured, nearest-rank
// percentiles and medians, and the A B A B order of alternate(). No timings: those are the bench's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alternate, budgetText, median, notMeasured, pairedRow, percentile, row } from '../../scripts/bench-rows';

test('ratio is baseline ÷ value; a ratio budget judges it, edges included where the budget says so', () => {
  const r = row('detect', 's', 0.5, 2, { on: 'ratio', op: '>=', limit: 4 });
  assert.deepEqual(r, {
    name: 'detect',
    value: 0.5,
    unit: 's',
    budget: 'ratio >= 4',
    baseline: 2,
    ratio: 4,
    pass: true,
  });
  assert.equal(row('detect', 's', 0.51, 2, { on: 'ratio', op: '>=', limit: 4 }).pass, false);
  // A throughput: the baseline (sampling off) 0.5% faster passes "< 1.01", 1% faster does not.
  assert.equal(row('tps', 'tokens/s', 1000, 1005, { on: 'ratio', op: '<', limit: 1.01 }).pass, true);
  assert.equal(row('tps', 'tokens/s', 1000, 1010, { on: 'ratio', op: '<', limit: 1.01 }).pass, false);
});

test('a value budget judges the value in the row unit, whatever the baseline', () => {
  assert.equal(row('lens', 'ms', 9.99, 1, { on: 'value', op: '<', limit: 10 }).pass, true);
  assert.equal(row('lens', 'ms', 10, 1000, { on: 'value', op: '<', limit: 10 }).pass, false);
  assert.equal(row('ssh', 's', 0.2, null, { on: 'value', op: '<=', limit: 0.2 }).pass, true);
  assert.equal(budgetText({ on: 'value', op: '<=', limit: 0.2 }, 's'), 'value <= 0.2 s');
});

test('nothing measured is null: no ratio, no verdict, and a row without a budget has no verdict', () => {
  assert.deepEqual(row('x', 's', null, 3, { on: 'ratio', op: '>=', limit: 1 }), {
    name: 'x',
    value: null,
    unit: 's',
    budget: 'ratio >= 1',
    baseline: 3,
    ratio: null,
    pass: null,
  });
  assert.equal(row('x', 's', 0, 3).ratio, null);
  assert.equal(row('x', 's', Number.NaN, 3).value, null);
  assert.equal(row('x', 's', 1, 3).pass, null);
  const skipped = notMeasured('ssh', 's', 'needs root', { on: 'value', op: '<=', limit: 0.2 });
  assert.equal(skipped.pass, null);
  assert.equal(skipped.note, 'needs root');
});

test('percentile is nearest-rank, median averages the middle two', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 95), 19);
  assert.equal(percentile(xs, 50), 10);
  assert.equal(percentile([7], 95), 7);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no samples/);
});

test('alternate runs ours and the baseline in turn, A B A B', async () => {
  const order: string[] = [];
  const out = await alternate(
    3,
    (i) => (order.push(`A${i}`), i),
    async (i) => (order.push(`B${i}`), 10 + i),
  );
  assert.deepEqual(order, ['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
  assert.deepEqual(out, { ours: [0, 1, 2], baseline: [10, 11, 12] });
});

test('a paired row keeps its verdict only when every pair gives the same one', () => {
  const budget = { on: 'ratio', op: '<', limit: 1.01 } as const;
  const agree = pairedRow('tps', 'tokens/s', [100, 102, 98], [100.5, 102.2, 98.1], budget);
  assert.equal(agree.pass, true);
  assert.equal(agree.ratio, 100.5 / 100);
  const straddle = pairedRow('tps', 'tokens/s', [100, 100, 100], [90, 130, 100.5], budget);
  assert.equal(straddle.pass, null);
  assert.match(straddle.note ?? '', /not resolved: the pairs' ratios 0\.900, 1\.300, 1\.005/);
  assert.equal(pairedRow('d', 's', [1, 1], [2, 3], { on: 'ratio', op: '>=', limit: 4 }).pass, false);
});
